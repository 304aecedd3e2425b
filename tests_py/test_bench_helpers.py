"""Unit tests of bench/benchlib.py, the helpers the bench scripts share.

The bench folder is not a package, so the module is loaded from its path.
Nothing here runs a benchmark or reads a clock's value.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHLIB = Path(__file__).resolve().parent.parent / "bench" / "benchlib.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchlib", BENCHLIB)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


benchlib = _load()


def erlang_pct(p: float, samples: list[int]) -> int:
    """bench_util:pct/2 transcribed: nth(max(1, min(N, round(P/100*N + 0.5))), sort(L)),
    with Erlang's round/1 (halves away from zero)."""
    s = sorted(samples)
    x = p / 100 * len(s) + 0.5
    rank = int(x) + (1 if x - int(x) >= 0.5 else 0)
    return s[max(1, min(len(s), rank)) - 1]


# --- percentiles --------------------------------------------------------------


@pytest.mark.parametrize(
    ("samples", "p", "expected"),
    [
        (list(range(1, 101)), 50, 51),  # round(50.5) = 51: the anchor's rule, not the textbook 50
        (list(range(1, 101)), 99, 100),
        (list(range(1, 11)), 50, 6),
        (list(range(1, 11)), 99, 10),
        ([40, 10, 30, 20], 25, 20),  # round(1.5) = 2: a half goes up
        ([7], 0, 7),
        ([7], 99, 7),
        ([3, 1, 2], 0, 1),  # rank 1 at the low end, never 0
    ],
)
def test_percentile_nearest_rank_on_known_data(samples: list[int], p: float, expected: int) -> None:
    assert benchlib.percentile(list(samples), p) == expected


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10, 99, 100, 101, 1000])
@pytest.mark.parametrize("p", [0, 1, 25, 50, 90, 99, 100])
def test_percentile_matches_bench_util_pct(n: int, p: float) -> None:
    samples = [(i * 7919) % 1009 for i in range(n)]
    assert benchlib.percentile(list(samples), p) == erlang_pct(p, samples)


def test_percentile_sorts_in_place_and_keeps_floats() -> None:
    samples = [3.5, 1.25, 2.0]
    assert benchlib.percentile(samples, 50) == 2.0
    assert samples == [1.25, 2.0, 3.5]


# --- command line -------------------------------------------------------------


def test_parser_defaults() -> None:
    args = benchlib.make_parser("doc", quick_help="fewer").parse_args([])
    assert args.prefixes == []
    assert args.quick is False
    assert args.threads == benchlib.DEFAULT_THREADS == 2


def test_parser_prefixes_quick_threads() -> None:
    parser = benchlib.make_parser("doc", quick_help="fewer")
    args = parser.parse_args(["--quick", "--threads", "4", "sup_", "sofo_start_10k_py$"])
    assert args.prefixes == ["sup_", "sofo_start_10k_py$"]
    assert args.quick is True
    assert args.threads == 4


def test_parser_without_run_options_has_none_of_them() -> None:
    args = benchlib.make_parser("doc").parse_args([])
    assert vars(args) == {}


def test_quick_scale() -> None:
    assert benchlib.quick_scale(False) == 1
    assert benchlib.quick_scale(True) == 10


# --- choosing metrics ---------------------------------------------------------


def test_selected_by_prefix_exact_name_or_no_prefix() -> None:
    assert benchlib.selected("local_call_rate_cpp", [])
    assert benchlib.selected("local_call_rate_cpp_blocking", ["local_call"])
    assert benchlib.selected("local_call_rate_cpp", ["local_call_rate_cpp$"])
    assert not benchlib.selected("local_call_rate_cpp_blocking", ["local_call_rate_cpp$"])
    assert not benchlib.selected("sofo_start_10k_py", ["sup_", "dist_"])


def test_exact_names_leave_out_the_logged_twin() -> None:
    names = ("sup_restart_p50_py", "sup_restart_p99_py")
    assert benchlib.exact_names(names, ["sup_restart_p50"]) == ["sup_restart_p50_py$"]
    assert benchlib.exact_names(names, []) == ["sup_restart_p50_py$", "sup_restart_p99_py$"]
    assert benchlib.exact_names(names, ["dist_"]) == []


def test_run_groups_a_failed_group_does_not_hide_the_others() -> None:
    ran: list[str] = []
    notes: list[str] = []

    def first(tag: str) -> None:
        ran.append(f"first {tag}")
        raise RuntimeError("boom")

    def second(tag: str) -> None:
        ran.append(f"second {tag}")

    def unselected(tag: str) -> None:
        ran.append(f"unselected {tag}")

    groups = [(("a_1",), first), (("b_1",), unselected), (("a_2",), second)]
    ok = benchlib.run_groups(groups, ["a_"], notes.append, "x")
    assert ok is False
    assert ran == ["first x", "second x"]
    assert notes == ["first benchmark failed: RuntimeError: boom"]
    assert benchlib.run_groups(groups[2:], [], notes.append, "y") is True


# --- metric lines -------------------------------------------------------------


def test_metric_line_format_floats_three_decimals_ints_as_they_are() -> None:
    assert benchlib.format_value(1.0) == "1.000"
    assert benchlib.format_value(2.34567) == "2.346"
    assert benchlib.format_value(1914) == "1914"
    assert benchlib.format_metric("sofo_mem_per_child_py", "1914", "bytes") == (
        "sofo_mem_per_child_py 1914 bytes"
    )


def test_parse_metric_line() -> None:
    assert benchlib.parse_metric_line("local_call_p50_py 2.350 us\n") == (
        "local_call_p50_py",
        "2.350",
        "us",
    )
    assert benchlib.parse_metric_line("py_sup.py: 100 measured rounds") is None
    assert benchlib.parse_metric_line("") is None


def test_results_emit_prints_and_records_selected_metrics(
    capsys: pytest.CaptureFixture[str],
) -> None:
    results = benchlib.Results(["sofo_"])
    results.emit("sofo_start_10k_py", 45.5656, "ms")
    results.emit("sofo_mem_per_child_py", 1914, "bytes")
    results.emit("sup_restart_p50_py", 26.39, "us")  # not selected
    assert (
        capsys.readouterr().out == "sofo_start_10k_py 45.566 ms\nsofo_mem_per_child_py 1914 bytes\n"
    )
    assert results.metrics == [
        {"metric": "sofo_start_10k_py", "value": 45.5656, "unit": "ms"},
        {"metric": "sofo_mem_per_child_py", "value": 1914, "unit": "bytes"},
    ]
    assert results.wants("sup_restart_p50_py", "sofo_shutdown_10k_py")
    assert not results.wants("sup_restart_p50_py")


def test_results_emit_line_passes_text_on_as_is(capsys: pytest.CaptureFixture[str]) -> None:
    results = benchlib.Results(["nothing_"])  # lines from another program are not filtered
    assert results.emit_line("local_call_rate_cpp 1660970.123 calls/s")
    assert results.emit_line("spawn_mem_per_process_cpp 765 bytes")
    assert results.emit_line("x 1e3 us")
    assert not results.emit_line("noexpp_bench: starting")
    assert capsys.readouterr().out == (
        "local_call_rate_cpp 1660970.123 calls/s\nspawn_mem_per_process_cpp 765 bytes\nx 1e3 us\n"
    )
    values = [(m["value"], type(m["value"])) for m in results.metrics]
    assert values == [(1660970.123, float), (765, int), (1000.0, float)]


def test_notes_prefix_and_stream() -> None:
    class Sink:
        def __init__(self) -> None:
            self.text = ""

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    sink = Sink()
    note = benchlib.Notes("py_sup.py", file=sink)  # type: ignore[arg-type]
    note("10 measured rounds")
    assert sink.text == "py_sup.py: 10 measured rounds\n"


# --- call and cast loops ------------------------------------------------------


class FakeRef:
    """Answers like bench_srv: ping -> pong, count -> casts so far."""

    def __init__(self, reply: str = "pong") -> None:
        self.reply = reply
        self.calls = 0
        self.casts = 0

    def call(self, request: Any, timeout: float | None = None) -> Any:
        self.calls += 1
        return self.casts if request == "count" else self.reply

    def cast(self, request: Any) -> None:
        self.casts += 1


def test_call_rate_makes_n_calls() -> None:
    ref = FakeRef()
    assert benchlib.call_rate(ref, 25, 60_000_000_000) > 0
    assert ref.calls == 25


def test_call_latencies_one_sample_per_call() -> None:
    ref = FakeRef()
    samples = benchlib.call_latencies(ref, 30, 60_000_000_000)
    assert len(samples) == 30 == ref.calls
    assert all(s >= 0 for s in samples)


def test_call_loops_reject_a_bad_reply() -> None:
    with pytest.raises(RuntimeError, match="bad reply"):
        benchlib.call_rate(FakeRef("pang"), 5, 60_000_000_000)
    with pytest.raises(RuntimeError, match="bad reply"):
        benchlib.call_latencies(FakeRef("pang"), 5, 60_000_000_000)


def test_cast_rate_checks_every_cast_arrived() -> None:
    ref = FakeRef()
    assert benchlib.cast_rate(ref, 40) > 0
    assert (ref.casts, ref.calls) == (40, 1)

    class Lossy(FakeRef):
        def cast(self, request: Any) -> None:
            pass

    with pytest.raises(RuntimeError, match="saw 0 of 3 casts"):
        benchlib.cast_rate(Lossy(), 3)


def test_benchlib_does_not_import_noexpp() -> None:
    # compare.py imports it where the package may not be installed.
    lines = BENCHLIB.read_text().splitlines()
    assert not [line for line in lines if line.startswith(("import noexpp", "from noexpp"))]


def test_call_metrics_warm_up_then_rate_then_latency(capsys: pytest.CaptureFixture[str]) -> None:
    ref = FakeRef()
    notes: list[str] = []
    results = benchlib.Results([])
    benchlib.call_metrics(results, ref, "dist_call", 3, 20, 60_000_000_000, notes.append)
    assert ref.calls == 3 + 20 + 20
    assert [m["metric"] for m in results.metrics] == [
        "dist_call_rate_py",
        "dist_call_p50_py",
        "dist_call_p99_py",
    ]
    assert [m["unit"] for m in results.metrics] == ["calls/s", "us", "us"]
    assert notes == ["dist_call_p50/p99_py: 20 timed calls"]
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_call_metrics_only_the_selected_loop_runs() -> None:
    ref = FakeRef()
    results = benchlib.Results(["local_call_rate_py$"])
    benchlib.call_metrics(results, ref, "local_call", 2, 10, 60_000_000_000, lambda _: None)
    assert ref.calls == 2 + 10
    assert [m["metric"] for m in results.metrics] == ["local_call_rate_py"]
