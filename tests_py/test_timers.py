"""Timers from inside a behavior: send_after, cancel_timer, order, and no
timer of a dead process reaching its successor."""

from __future__ import annotations

from typing import Any

import noexpp


def make_ticker(inbox: Any) -> type[noexpp.GenServer]:
    class Ticker(noexpp.GenServer):
        """A call ("after", seconds, msg) or ("cancel_after", seconds, msg)
        starts a timer; every info message goes to the inbox."""

        def init(self) -> None:
            self.timers: dict[Any, Any] = {}

        def handle_call(self, request: Any, caller: Any) -> Any:
            op, seconds, msg = request
            timer = self.send_after(seconds, msg)
            if op == "cancel_after":
                self.cancel_timer(timer)
            return "ok"

        def handle_info(self, message: Any) -> None:
            inbox.put(message)

    return Ticker


def test_send_after_delivers_to_handle_info(node: noexpp.Node, inbox: Any) -> None:
    ref = node.spawn(make_ticker(inbox))
    ref.call(("after", 0.05, ("tick", 1, [b"x"])))
    assert inbox.get() == ("tick", 1, [b"x"])


def test_send_after_zero_fires(node: noexpp.Node, inbox: Any) -> None:
    ref = node.spawn(make_ticker(inbox))
    ref.call(("after", 0, "now"))
    assert inbox.get() == "now"


def test_timers_fire_in_deadline_order(node: noexpp.Node, inbox: Any) -> None:
    ref = node.spawn(make_ticker(inbox))
    ref.call(("after", 0.4, "third"))
    ref.call(("after", 0.2, "second"))
    ref.call(("after", 0.01, "first"))
    assert [inbox.get(), inbox.get(), inbox.get()] == ["first", "second", "third"]


def test_cancelled_timer_never_fires(node: noexpp.Node, inbox: Any) -> None:
    ref = node.spawn(make_ticker(inbox))
    ref.call(("cancel_after", 0.01, "cancelled"))
    # A later timer is the barrier: by the time it fires, the cancelled one
    # (with the earlier deadline) would have fired too.
    ref.call(("after", 0.2, "barrier"))
    assert inbox.get() == "barrier"
    assert inbox.drain() == []


def test_send_after_returns_timer_and_cancel_reports(node: noexpp.Node) -> None:
    class Probe(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            timer = self.send_after(30.0, "never")
            first = self.cancel_timer(timer)
            return (timer is not None, first)

        def handle_info(self, message: Any) -> None:
            pass

    has_timer, first = node.spawn(Probe).call("go")
    assert has_timer
    assert first in (True, None)


def test_timer_in_a_handler_periodic(node: noexpp.Node, inbox: Any) -> None:
    """A behavior re-arms its timer from handle_info (the usual tick loop)."""

    class Periodic(noexpp.GenServer):
        def init(self) -> None:
            self.n = 0
            self.send_after(0.01, "tick")

        def handle_info(self, message: Any) -> None:
            self.n += 1
            inbox.put(self.n)
            if self.n < 5:
                self.send_after(0.01, "tick")

    node.spawn(Periodic)
    assert [inbox.get() for _ in range(5)] == [1, 2, 3, 4, 5]


def test_timer_of_dead_process_never_reaches_successor(
        node: noexpp.Node, inbox: Any, unique: Any) -> None:
    name = unique("timed")
    ticker = make_ticker(inbox)
    first = node.spawn(ticker, name=name)
    first.call(("after", 0.1, "from-the-dead"))
    first.stop()
    second = node.spawn(ticker, name=name)
    assert second != first
    second.call(("after", 0.4, "own"))
    assert inbox.get() == "own"
    assert inbox.drain() == []
