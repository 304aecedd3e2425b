"""Command line: ``python -m noexpp demo`` (more commands arrive with the cluster)."""
from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m noexpp", description="noexpp command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the self-contained demonstration")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run

        return run()
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
