"""Ref: a reference to a process. The class is the engine's (``_core.Ref``);
this module adds the asyncio side, which belongs in Python."""
from __future__ import annotations

import asyncio
from typing import Any

from . import _core
from .gen_server import _ProcessCall

__all__ = ["Ref"]

Ref = _core.Ref


def _settle(fut: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if fut.done():  # cancelled by the caller (e.g. asyncio.wait_for)
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


def call_async(self: Any, request: Any, timeout: float | None = 5.0) -> Any:
    """Calls the process without blocking: ``await ref.call_async(x)``.

    In asyncio code (scripts, Jupyter cells) this returns a future of the
    running loop. Inside a behavior's ``async def`` handler it returns an
    awaitable that suspends the process until the reply comes.
    """
    if _core.in_process():
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
            raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
        return _ProcessCall(self, request, timeout)
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def done(ok: bool, value: Any) -> None:
        try:
            loop.call_soon_threadsafe(_settle, fut, ok, value)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    self._call_callback(request, timeout, done)
    return fut


Ref.call_async = call_async
