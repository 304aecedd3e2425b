"""GenServer: the base class of Python behaviors, and the behavior registry."""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, TypeVar

from . import _core, _node_registry
from ._checks import check_non_empty_str, check_seconds
from .errors import NodeStopped, UndefinedCallbackError
from .ref import Ref, _check_ref

__all__ = [
    "GenServer", "NoReply", "Ignore", "Down", "Exit", "Caller", "Timer", "ExitReason",
    "register_behavior", "behavior", "behaviors",
]

Caller = _core.Caller
Timer = _core.Timer
ExitReason = _core.ExitReason


class _NoReplyType:
    """Returned by handle_call to reply later with ``self.reply(caller, value)``."""

    _instance: _NoReplyType | None = None

    def __new__(cls) -> _NoReplyType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "noexpp.NoReply"


NoReply = _NoReplyType()


class _IgnoreType:
    """Returned by ``init`` to start nothing, as OTP's ``ignore``: a
    supervisor keeps the child as not running (forgets it if temporary),
    ``Node.spawn`` raises :class:`Ignored`."""

    _instance: _IgnoreType | None = None

    def __new__(cls) -> _IgnoreType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "noexpp.Ignore"


Ignore = _IgnoreType()


class Down(NamedTuple):
    """A monitor fired: ``ref`` exited with ``reason`` (delivered to handle_info)."""

    ref: Any
    reason: Any
    monitor: int = 0


class Exit(NamedTuple):
    """A linked process exited while this one traps exits (handle_info)."""

    ref: Any
    reason: Any


class GenServer:
    """Base class of a Python behavior (Erlang's gen_server).

    Override ``init`` and the ``handle_*`` methods; any of them may be
    ``async def`` and ``await other_ref.call_async(...)``. A handler that
    raises crashes the process with reason ``error``. Helpers below work only
    inside the process's own handlers.
    """

    _ctx: _core.ProcessContext  # set by the engine before init

    def init(self, *args: Any) -> Any:
        """Called in the new process with the spawn arguments; raising fails
        the spawn, returning :data:`Ignore` starts nothing."""

    # The defaults are OTP's missing callbacks: a call, cast or continue the
    # behavior does not handle crashes it with UndefinedCallbackError; an
    # info message it does not handle is logged and dropped.

    def handle_call(self, request: Any, caller: Caller) -> Any:
        """Return the reply, or ``NoReply`` and call ``self.reply(caller, v)`` later."""
        raise UndefinedCallbackError(
            f"{type(self).__name__} does not define handle_call (call {request!r:.200})")

    def handle_cast(self, request: Any) -> None:
        """An asynchronous request."""
        raise UndefinedCallbackError(
            f"{type(self).__name__} does not define handle_cast (cast {request!r:.200})")

    def handle_info(self, message: Any) -> None:
        """Plain sends, timer messages, :class:`Down` and :class:`Exit`. By
        default a warning is logged (at most ten a second per process) and
        the message is dropped."""
        self._ctx.drop_unexpected(f"message {message!r:.200}")

    def handle_continue(self, arg: Any) -> None:
        """Runs after the handler that called ``self.continue_with(arg)``."""
        raise UndefinedCallbackError(
            f"{type(self).__name__} does not define handle_continue (continue {arg!r:.200})")

    def terminate(self, reason: ExitReason) -> None:
        """Called when the process stops (also after a crash)."""

    # ---- helpers -------------------------------------------------------
    @property
    def ref(self) -> Ref:
        """This process's :class:`Ref`."""
        return self._ctx.ref

    @property
    def node(self) -> Any:
        """The :class:`noexpp.Node` this process runs on."""
        node = _node_registry.lookup(self._ctx.node)
        if node is None:
            raise NodeStopped("this node's Python object is gone")
        return node

    def reply(self, caller: Caller, value: Any) -> None:
        """Replies to a call answered with ``NoReply`` (from any process or thread)."""
        caller.reply(value)

    def send_after(self, seconds: float, message: Any) -> Timer:
        """Sends ``message`` to this process's handle_info after ``seconds``."""
        return self._ctx.send_after(check_seconds("seconds", seconds), message)

    def cancel_timer(self, timer: Timer) -> bool:
        """Cancels a timer; False if it already fired or was cancelled."""
        return bool(self._ctx.cancel_timer(timer))

    def stop(self, reason: Any = "normal") -> None:
        """Stops this process with ``reason`` once the current handler returns."""
        self._ctx.stop(reason)

    def continue_with(self, arg: Any) -> None:
        """Runs ``handle_continue(arg)`` right after the current handler."""
        self._ctx.continue_with(arg)

    def monitor(self, ref: Any) -> int:
        """Monitors ``ref``: one :class:`Down` arrives in handle_info when it exits."""
        return int(self._ctx.monitor(_check_ref(ref)))

    def demonitor(self, ref: Any, monitor: int) -> None:
        """Cancels the monitor ``monitor`` (from :meth:`monitor`) of ``ref``."""
        self._ctx.demonitor(_check_ref(ref), monitor)

    def link(self, ref: Any) -> None:
        """Links to ``ref``: an abnormal exit of either stops the other (unless trapping)."""
        self._ctx.link(_check_ref(ref))

    def unlink(self, ref: Any) -> None:
        """Removes the link to ``ref``."""
        self._ctx.unlink(_check_ref(ref))

    def trap_exit(self, on: bool = True) -> None:
        """Turns exit signals from links into :class:`Exit` messages."""
        self._ctx.trap_exit(bool(on))


def _check_behavior_class(cls: Any) -> None:
    """A GenServer subclass (TypeError for anything else, instances included)."""
    if not (isinstance(cls, type) and issubclass(cls, GenServer)):
        raise TypeError(f"a behavior must be a noexpp.GenServer subclass, not {cls!r}")


def register_behavior(name: str, cls: type[GenServer]) -> None:
    """Registers ``cls`` under ``name`` for every node in this OS process.

    Re-registering the same class is a no-op; another class under a taken
    name raises :class:`DuplicateNameError`.
    """
    check_non_empty_str("behavior name", name)
    _check_behavior_class(cls)
    _core.register_python_behavior(name, cls)


_T = TypeVar("_T", bound=type)


def behavior(name: str) -> Callable[[_T], _T]:
    """Class decorator form of :func:`register_behavior`."""

    def decorate(cls: _T) -> _T:
        register_behavior(name, cls)
        return cls

    return decorate


def behaviors() -> dict[str, str]:
    """Registered behavior names and their language ("python" or "cpp")."""
    return dict(sorted(_core.behaviors()))
