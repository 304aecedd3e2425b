"""Command line: ``python -m noexpp demo | node | nodes`` (see :mod:`noexpp.cli`).

``demo`` runs the self-contained demonstration; ``node`` runs a cluster node
until SIGINT/SIGTERM; ``nodes`` lists the members of a running cluster.
``python -m noexpp COMMAND --help`` describes each command's options.
"""
from __future__ import annotations

import sys

from .cli import main

__all__ = ["main"]


if __name__ == "__main__":
    sys.exit(main())
