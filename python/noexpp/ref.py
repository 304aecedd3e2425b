"""Ref: a reference to a process. The class is the engine's (``_core.Ref``);
this module adds the asyncio side, which belongs in Python: ``call_async``
and the awaitable it returns inside a behavior (:class:`_ProcessCall`)."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator
from typing import Any

from . import _core
from ._checks import is_number, type_name

__all__ = ["Ref"]

Ref = _core.Ref


class _ProcessCall:
    """What ``ref.call_async`` returns inside a handler: awaiting it suspends
    the process (no other message is handled) without blocking its thread.

    The package hands the class to the engine's bridge when it is imported
    (``_core.bind_python_types``), which recognises it when a handler awaits."""

    __slots__ = ("ref", "request", "timeout")

    def __init__(self, ref: Ref, request: Any, timeout: float | None) -> None:
        self.ref, self.request, self.timeout = ref, request, timeout

    def __await__(self) -> Generator[Any, Any, Any]:
        return (yield self)


def _check_ref(ref: Any) -> Ref:
    """A :class:`Ref` (TypeError naming the type of anything else)."""
    if not isinstance(ref, Ref):
        raise TypeError(f"expected a noexpp.Ref, not {type_name(ref)}")
    return ref


def _settle(fut: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if fut.done():  # cancelled by the caller (e.g. asyncio.wait_for)
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


def call_async(self: Ref, request: Any, timeout: float | None = 5.0) -> Any:
    """Calls the process without blocking: ``await ref.call_async(x)``.

    In asyncio code (scripts, Jupyter cells) this returns a future of the
    running loop. Inside a behavior's ``async def`` handler it returns an
    awaitable that suspends the process until the reply comes.
    """
    if _core.in_process():
        if timeout is not None and not is_number(timeout):
            raise TypeError("timeout must be a number of seconds or None, "
                            f"not {type_name(timeout)}")
        return _ProcessCall(self, request, timeout)
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def done(ok: bool, value: Any) -> None:
        # RuntimeError: the loop is closed, nobody waits any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, fut, ok, value)

    self._call_callback(request, timeout, done)
    return fut


# The engine's class gets its Python method here (the stub declares it).
Ref.call_async = call_async  # type: ignore[method-assign]
