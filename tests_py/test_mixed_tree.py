"""A mixed tree: Python and C++ children under one supervisor. A C++ child
needs no GIL, so it keeps answering calls from another node, and its node
keeps its heartbeats, while a Python child holds the GIL (issue 14).

The tree runs on the hidden controller node of a processes-mode
LocalCluster (in this interpreter); the caller is a Python behavior in the
node process, whose own GIL is free. A ticker thread here proves the GIL
really was held."""
from __future__ import annotations

import threading
import time

import noexpp
import pytest
from helpers import TIMEOUT, Collector, close_cluster
from mixed_tree_behaviors import PROBER, GilHog

#: How long the Python child holds the GIL.
HOG_SECONDS = 4.0


class Ticker:
    """A thread that needs the GIL every 10 ms: its longest gap is how long
    the GIL was held by someone else."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(0.01):
            now = time.monotonic()
            self.longest = max(self.longest, now - last)
            last = now

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(TIMEOUT)
        return self.longest


@pytest.mark.slow
def test_a_cpp_child_answers_another_node_while_a_python_child_holds_the_gil() -> None:
    cluster = noexpp.LocalCluster(1, mode="processes", modules=["mixed_tree_behaviors"])
    try:
        here = cluster.controller
        assert here is not None
        sup = here.start_supervisor([noexpp.ChildSpec("hog", GilHog),
                                     noexpp.ChildSpec("native", "noexpp.probe")],
                                    strategy="one_for_all")
        kids = {c.id: c.ref for c in sup.which_children()}
        prober = here.spawn_remote(cluster.ids[0], PROBER)
        report = Collector(here)
        ticker = Ticker()
        # Both casts leave before the GIL is taken: the probing spans the hog.
        prober.cast(("probe", kids["native"], HOG_SECONDS + 1.0, report.ref))
        kids["hog"].cast(("hog", HOG_SECONDS))
        kind, answers, slowest, failures = report.get(timeout=TIMEOUT + 2 * HOG_SECONDS)
        held = ticker.stop()
        print(f"GIL held {held:.2f} s; C++ child answered {answers} calls, slowest {slowest * 1000:.1f} ms")
        assert kind == "probed"
        assert held >= HOG_SECONDS * 0.9, f"the GIL was not held (longest gap {held:.2f} s)"
        assert failures == []                        # no NodeDown: heartbeats went on
        assert answers > 10
        # Not one call waited for the GIL (it was held for HOG_SECONDS at a stretch).
        assert slowest < HOG_SECONDS / 2, f"a call took {slowest:.2f} s"
        assert kids["hog"].call("ping", timeout=TIMEOUT) == "pong"
        assert sup.stats()["total_restarts"] == 0
        sup.stop()
    finally:
        close_cluster(cluster)
