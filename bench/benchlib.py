"""Helpers shared by the Python bench scripts (``run.py``, ``py_sup.py``,
``py_dist.py``, ``compare.py``).

One place for what every script does alike: the command line they share
(metric prefixes, ``--quick``, ``--threads``), the choice of metrics by
prefix, the ``metric value unit`` line they print and read back, the
nearest-rank percentile of the Erlang anchor's ``bench_util:pct/2``, the
resident-set probe, and the call and cast loops of ``a_call.erl`` /
``b_cast.erl`` / ``e_dist.erl`` that run against a local or a remote server
alike. It does not import ``noexpp``: ``compare.py`` uses it without the
package, and the loops take any object with the ``call`` / ``cast`` methods
of a ``noexpp`` ref.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO, TypeVar

__all__ = [
    "DEFAULT_THREADS",
    "Group",
    "Notes",
    "Results",
    "call_latencies",
    "call_metrics",
    "call_rate",
    "cast_rate",
    "exact_names",
    "format_metric",
    "format_value",
    "make_parser",
    "parse_metric_line",
    "percentile",
    "quick_scale",
    "rss_bytes",
    "run_groups",
    "selected",
]

#: Engine threads per node unless ``--threads`` says otherwise.
DEFAULT_THREADS = 2
#: ``--quick`` divides the counts of a run by this.
QUICK_DIVISOR = 10

#: A benchmark group: the metrics it can produce, and the function that runs it.
Group = tuple[Sequence[str], Callable[..., None]]

T = TypeVar("T", int, float)


# --------------------------------------------------------------------------
# Notes on stderr


class Notes:
    """Writes ``<prefix>: message`` lines to stderr (stdout carries metric lines only).

    ``file`` may be set to another stream, e.g. the real stderr while file
    descriptor 2 is sent elsewhere; ``None`` means ``sys.stderr`` at the time
    of the call.
    """

    def __init__(self, prefix: str, file: TextIO | None = None) -> None:
        self.prefix = prefix
        self.file = file

    def __call__(self, message: str) -> None:
        print(f"{self.prefix}: {message}", file=self.file or sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Command line


def make_parser(description: str | None, quick_help: str | None = None) -> argparse.ArgumentParser:
    """The parser of a bench script, its docstring as the description.

    With ``quick_help`` it has the options every benchmark-running script
    shares: ``metric-prefix ...`` (``args.prefixes``), ``--quick`` and
    ``--threads N`` (default :data:`DEFAULT_THREADS`); without it, none of
    them (``compare.py`` adds its own).
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if quick_help is not None:
        parser.add_argument(
            "prefixes",
            nargs="*",
            metavar="metric-prefix",
            help="run only metrics whose names start with one of these ('name$' = exactly name)",
        )
        parser.add_argument("--quick", action="store_true", help=quick_help)
        parser.add_argument(
            "--threads",
            type=int,
            default=DEFAULT_THREADS,
            help=f"engine threads per node (default {DEFAULT_THREADS})",
        )
    return parser


def quick_scale(quick: bool) -> int:
    """What the counts of a run are divided by: 10 with ``--quick``, else 1."""
    return QUICK_DIVISOR if quick else 1


# --------------------------------------------------------------------------
# Choosing metrics


def selected(metric: str, prefixes: Sequence[str]) -> bool:
    """True when ``metric`` starts with one of ``prefixes`` (or none was given).

    A prefix ending in ``$`` matches only the exact name: ``local_call_rate_cpp$``
    leaves out ``local_call_rate_cpp_blocking``.
    """
    return not prefixes or any(
        metric == p[:-1] if p.endswith("$") else metric.startswith(p) for p in prefixes
    )


def exact_names(metrics: Iterable[str], prefixes: Sequence[str]) -> list[str]:
    """The selected ones of ``metrics`` as exact prefixes (``name$``), for a
    script run in another interpreter that must measure only those."""
    return [f"{m}$" for m in metrics if selected(m, prefixes)]


def run_groups(
    groups: Iterable[Group], prefixes: Sequence[str], note: Callable[[str], None], *args: Any
) -> bool:
    """Runs ``group(*args)`` for every group with a selected metric; a group
    that raises is noted and the others still run. False if one failed."""
    ok = True
    for names, group in groups:
        if not any(selected(m, prefixes) for m in names):
            continue
        try:
            group(*args)
        except Exception as e:  # noqa: BLE001 - a failed group must not hide the others
            note(f"{group.__name__} benchmark failed: {type(e).__name__}: {e}")
            ok = False
    return ok


# --------------------------------------------------------------------------
# Metric lines: `metric value unit`


def format_value(value: float) -> str:
    """A value as a metric line writes it: floats with 3 decimals, ints as they are."""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def format_metric(metric: str, value_text: str, unit: str) -> str:
    """The ``metric value unit`` line (without the newline)."""
    return f"{metric} {value_text} {unit}"


def parse_metric_line(line: str) -> tuple[str, str, str] | None:
    """``(metric, value text, unit)`` of a ``metric value unit`` line; None
    for any line that does not have exactly three fields."""
    parts = line.split()
    if len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2]


class Results:
    """The metrics of a run: each printed to stdout as soon as it is known
    (when selected by ``prefixes``) and kept as a ``{"metric", "value",
    "unit"}`` record in :attr:`metrics` (``run.py --json`` writes them)."""

    def __init__(self, prefixes: Sequence[str]) -> None:
        self.prefixes = prefixes
        self.metrics: list[dict[str, Any]] = []

    def wants(self, *metrics: str) -> bool:
        """True when one of ``metrics`` is selected."""
        return any(selected(m, self.prefixes) for m in metrics)

    def emit(self, metric: str, value: float, unit: str) -> None:
        """Prints and records ``metric`` unless it is not selected."""
        if not selected(metric, self.prefixes):
            return
        self._add(metric, format_value(value), value, unit)

    def emit_line(self, line: str) -> bool:
        """Passes on a ``metric value unit`` line from another program (which
        made its own selection); False, and nothing printed, if the line is
        not one."""
        parsed = parse_metric_line(line)
        if parsed is None:
            return False
        metric, text, unit = parsed
        value: float | int = float(text) if any(c in text for c in ".eE") else int(text)
        self._add(metric, text, value, unit)
        return True

    def _add(self, metric: str, text: str, value: float, unit: str) -> None:
        print(format_metric(metric, text, unit), flush=True)
        self.metrics.append({"metric": metric, "value": value, "unit": unit})


# --------------------------------------------------------------------------
# Statistics and probes


def percentile(samples: list[T], p: float) -> T:
    """Nearest-rank percentile, the rule of bench_util:pct/2 (sorts in place).

    ``lists:nth(max(1, min(N, round(P / 100 * N + 0.5))), Sorted)``; Erlang's
    ``round/1`` takes halves away from zero, which for these positive ranks
    is ``int(x + 0.5)``.
    """
    samples.sort()
    n = len(samples)
    rank = int(p / 100 * n + 0.5 + 0.5)
    return samples[max(1, min(n, rank)) - 1]


def rss_bytes() -> int:
    """Resident set size of this process (/proc/self/statm)."""
    with open("/proc/self/statm") as f:
        resident = int(f.read().split()[1])
    return resident * os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------
# Call and cast loops (bench_util:call_rate/3, call_lat/3, cast_rate/2)


def call_rate(ref: Any, n: int, max_ns: int) -> float:
    """Calls ``ref.call("ping")`` up to ``n`` times or for ``max_ns`` (checked
    every 10,000 calls), untimed each; returns calls per second."""
    t0 = time.perf_counter_ns()
    end = t0 + max_ns
    done = 0
    while done < n:
        if ref.call("ping") != "pong":
            raise RuntimeError("bad reply")
        done += 1
        if done % 10_000 == 0 and time.perf_counter_ns() > end:
            break
    return done / ((time.perf_counter_ns() - t0) / 1e9)


def call_latencies(ref: Any, n: int, max_ns: int) -> list[int]:
    """Up to ``n`` ``ref.call("ping")`` (or for ``max_ns``), each with a
    ``perf_counter_ns`` reading just before and just after; returns the
    round trips in ns, in call order."""
    samples: list[int] = []
    clock = time.perf_counter_ns
    end = clock() + max_ns
    for _ in range(n):
        t0 = clock()
        reply = ref.call("ping")
        t1 = clock()
        if reply != "pong":
            raise RuntimeError("bad reply")
        samples.append(t1 - t0)
        if t1 > end:
            break
    return samples


def call_metrics(
    results: Results,
    ref: Any,
    base: str,
    warmup: int,
    n: int,
    max_ns: int,
    note: Callable[[str], None],
) -> None:
    """The ``{base}_rate_py``, ``{base}_p50_py`` and ``{base}_p99_py`` metrics
    of the server ``ref``: ``warmup`` untimed calls, then :func:`call_rate`
    and :func:`call_latencies` (each only when one of its metrics is selected)."""
    for _ in range(warmup):
        ref.call("ping")
    if results.wants(f"{base}_rate_py"):
        results.emit(f"{base}_rate_py", call_rate(ref, n, max_ns), "calls/s")
    if results.wants(f"{base}_p50_py", f"{base}_p99_py"):
        samples = call_latencies(ref, n, max_ns)
        note(f"{base}_p50/p99_py: {len(samples)} timed calls")
        results.emit(f"{base}_p50_py", percentile(samples, 50) / 1e3, "us")
        results.emit(f"{base}_p99_py", percentile(samples, 99) / 1e3, "us")


def cast_rate(ref: Any, n: int) -> float:
    """``n`` ``ref.cast("inc")`` then one ``ref.call("count")``, answered after
    all of them; messages per second from the first cast to that reply."""
    t0 = time.perf_counter_ns()
    for _ in range(n):
        ref.cast("inc")
    count = ref.call("count", timeout=300.0)
    elapsed = time.perf_counter_ns() - t0
    if count != n:
        raise RuntimeError(f"the server saw {count} of {n} casts")
    return n / (elapsed / 1e9)


def run_cluster_script(
    argv: Sequence[str] | None,
    doc: str | None,
    quick_help: str,
    groups: Iterable[Group],
    note: Callable[[str], None],
) -> int:
    """The main of a bench script that runs node processes (py_dist.py,
    py_dsup.py): parses its options, makes SIGTERM end the run through the
    groups' finally blocks (so no node process, perhaps SIGSTOPped, outlives
    it) and runs the selected groups; 0 when every one succeeded."""
    args = make_parser(doc, quick_help=quick_help).parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    ok = run_groups(groups, args.prefixes, note, args, Results(args.prefixes))
    return 0 if ok else 1
