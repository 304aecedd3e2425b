"""asyncio: ref.call_async from asyncio.run, from a loop that is already
running (as in Jupyter), from a loop on another thread; async handlers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import noexpp
from helpers import TIMEOUT, Holder


class Echo(noexpp.GenServer):
    def handle_call(self, request: Any, caller: Any) -> Any:
        if request == "crash":
            raise ValueError("async target crashed")
        return ("echo", request)


def test_call_async_in_asyncio_run(node: noexpp.Node) -> None:
    ref = node.spawn(Echo)

    async def main() -> Any:
        return await ref.call_async(1)

    assert asyncio.run(main()) == ("echo", 1)


def test_call_async_many_concurrently_in_running_loop(node: noexpp.Node) -> None:
    """As in a Jupyter cell: the loop is already running when we await."""
    refs = [node.spawn(Echo) for _ in range(4)]

    async def cell() -> list[Any]:
        assert asyncio.get_running_loop().is_running()
        return await asyncio.gather(*(refs[i % 4].call_async(i) for i in range(40)))

    assert asyncio.run(cell()) == [("echo", i) for i in range(40)]


def test_call_async_from_loop_on_another_thread(node: noexpp.Node) -> None:
    """A long-lived loop in a background thread (how Jupyter's kernel loop looks
    to user code); the result resolves on that loop."""
    ref = node.spawn(Echo)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever)
    thread.start()
    try:
        async def job() -> Any:
            first = await ref.call_async("a")
            second = await asyncio.gather(ref.call_async("b"), ref.call_async("c"))
            return first, second, threading.current_thread() is thread

        fut = asyncio.run_coroutine_threadsafe(job(), loop)
        first, second, on_loop_thread = fut.result(timeout=TIMEOUT)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)
        loop.close()
    assert first == ("echo", "a")
    assert second == [("echo", "b"), ("echo", "c")]
    assert on_loop_thread


def test_call_async_timeout(node: noexpp.Node) -> None:
    ref = node.spawn(Holder)

    async def main() -> None:
        with pytest.raises(noexpp.CallTimeout):
            await ref.call_async("hold", timeout=0.1)
        # the late reply is dropped, never delivered to the next call
        ref.cast("release")
        assert await ref.call_async("next", timeout=TIMEOUT) == ("fresh", "next")

    asyncio.run(main())


def test_call_async_process_crashed(node: noexpp.Node) -> None:
    ref = node.spawn(Echo)

    async def main() -> None:
        with pytest.raises(noexpp.ProcessCrashed) as info:
            await ref.call_async("crash")
        assert info.value.reason.error_type == "ValueError"
        with pytest.raises(noexpp.NoProcess):
            await ref.call_async("after death")

    asyncio.run(main())


def test_cancelled_call_async_leaves_the_loop_healthy(node: noexpp.Node) -> None:
    """Cancelling the awaiting task, then letting the reply arrive, must not
    raise inside the loop (e.g. InvalidStateError on a cancelled future)."""
    ref = node.spawn(Holder)
    loop_errors: list[dict[str, Any]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: loop_errors.append(ctx))
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(ref.call_async("hold", timeout=30.0), 0.1)
        ref.cast("release")  # the cancelled call's reply is sent now
        # A later call round-trip is a barrier behind that reply.
        assert await ref.call_async("after", timeout=TIMEOUT) == ("fresh", "after")
        await asyncio.sleep(0)  # let any call_soon_threadsafe callback run

    asyncio.run(main())
    assert loop_errors == []


def test_async_handle_call_awaits_other_process(node: noexpp.Node) -> None:
    class AsyncFront(noexpp.GenServer):
        def init(self, backend: Any) -> None:
            self.backend = backend

        async def handle_call(self, request: Any, caller: Any) -> Any:
            first = await self.backend.call_async(request)
            second = await self.backend.call_async((request, 2))
            return [first, second]

    backend = node.spawn(Echo)
    front = node.spawn(AsyncFront, backend)
    assert front.call("x", timeout=TIMEOUT) == [("echo", "x"), ("echo", ("x", 2))]
    # also when the caller is itself async
    async def main() -> Any:
        return await front.call_async("y")

    assert asyncio.run(main()) == [("echo", "y"), ("echo", ("y", 2))]


def test_async_handle_call_chain_single_thread(make_node: Any) -> None:
    node = make_node("async-chain", threads=1)

    class AsyncHop(noexpp.GenServer):
        def init(self, nxt: Any) -> None:
            self.next = nxt

        async def handle_call(self, request: Any, caller: Any) -> Any:
            if self.next is None:
                return [request]
            return ["hop", *await self.next.call_async(request)]

    ref = node.spawn(AsyncHop, None)
    for _ in range(3):
        ref = node.spawn(AsyncHop, ref)
    assert ref.call("end", timeout=TIMEOUT) == ["hop", "hop", "hop", "end"]


def test_async_handle_cast_awaits_other_process(node: noexpp.Node, inbox: Any) -> None:
    class AsyncCast(noexpp.GenServer):
        def init(self, backend: Any) -> None:
            self.backend = backend

        async def handle_cast(self, request: Any) -> None:
            inbox.put(await self.backend.call_async(request))

    backend = node.spawn(Echo)
    ref = node.spawn(AsyncCast, backend)
    ref.cast("c1")
    ref.cast("c2")
    assert [inbox.get(), inbox.get()] == [("echo", "c1"), ("echo", "c2")]


def test_async_handle_call_keeps_message_order(node: noexpp.Node) -> None:
    """While an async handler awaits, the process handles no other message:
    state changes stay in order as with a sync handler."""

    class AsyncState(noexpp.GenServer):
        def init(self, backend: Any) -> None:
            self.backend = backend
            self.log: list[Any] = []

        async def handle_cast(self, request: Any) -> None:
            await self.backend.call_async(request)
            self.log.append(request)

        def handle_call(self, request: Any, caller: Any) -> Any:
            return self.log

    ref = node.spawn(AsyncState, node.spawn(Echo))
    for i in range(10):
        ref.cast(i)
    assert ref.call("log", timeout=TIMEOUT) == list(range(10))


def test_async_handle_call_raising_crashes_the_process(node: noexpp.Node) -> None:
    class AsyncCrash(noexpp.GenServer):
        def init(self, backend: Any) -> None:
            self.backend = backend

        async def handle_call(self, request: Any, caller: Any) -> Any:
            await self.backend.call_async(request)
            raise KeyError("async boom")

    ref = node.spawn(AsyncCrash, node.spawn(Echo))
    with pytest.raises(noexpp.ProcessCrashed) as info:
        ref.call("x", timeout=TIMEOUT)
    assert info.value.reason.error_type == "KeyError"
    assert "async boom" in info.value.reason.message
