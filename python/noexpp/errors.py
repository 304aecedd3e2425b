"""The exceptions noexpp raises. All subclass :class:`NoexppError`."""
from __future__ import annotations

from typing import Any

__all__ = [
    "NoexppError", "CallTimeout", "NoProcess", "NodeDown", "ProcessCrashed", "CallingSelfError",
    "NodeStopped", "InitError", "AuthenticationError", "DuplicateNameError", "DuplicateChildError",
    "ChildNotFoundError", "MaxRestartsExceededError", "MissingChildTemplateError",
    "InvalidSimpleOneForOneError", "BehaviorNotFoundError", "NoAvailableNodeError",
    "SupervisorNotRunning", "ChildRunningError", "MessageTooLargeError", "Ignored",
    "UndefinedCallbackError", "TlsConfigError",
]


class NoexppError(Exception):
    """Base class of every noexpp error."""


class CallTimeout(NoexppError, TimeoutError):
    """No reply arrived before the call's timeout."""


class _WithReason(NoexppError):
    """An error that carries the exit reason of the process involved."""

    def __init__(self, message: str, reason: Any = None) -> None:
        super().__init__(message)
        self.reason = reason


class NoProcess(_WithReason):
    """The target process does not exist (or exited before replying)."""


class ProcessCrashed(_WithReason):
    """The target crashed while the call was open; ``reason`` says how."""


class NodeDown(NoexppError):
    """The target's node is unreachable (exit reason ``noconnection``)."""


class CallingSelfError(NoexppError):
    """A process called itself, which could only deadlock."""


class NodeStopped(NoexppError):
    """The node is not running."""


class InitError(NoexppError):
    """A behavior's ``init`` raised, so the process was not started."""


class Ignored(NoexppError):
    """A behavior's ``init`` returned :data:`noexpp.Ignore`: nothing was started
    (``Node.spawn``; a supervisor keeps such a child as not running instead)."""


class UndefinedCallbackError(NoexppError, NotImplementedError):
    """A process got a call, cast or continue its behavior does not define a
    handler for (OTP's ``undef``): it crashes with this error."""


class AuthenticationError(NoexppError):
    """A peer node presented the wrong cookie or protocol version, or the
    TLS handshake with it failed: TLS is on at one node only, or a
    certificate does not verify against the other node's CA."""


class TlsConfigError(NoexppError, ValueError):
    """A file of a :class:`noexpp.TlsConfig` is missing, unreadable or not
    what it should be (not PEM, an encrypted key, a key that does not match
    the certificate, a certificate the CA did not sign). The message names
    the file and the problem."""


class DuplicateNameError(NoexppError):
    """A name (process or behavior) is already registered."""


class DuplicateChildError(NoexppError):
    """A supervisor already has a child with this id."""


class ChildNotFoundError(NoexppError):
    """A supervisor has no child with this id."""


class ChildRunningError(NoexppError):
    """The child is running (restart_child / delete_child need it stopped)."""


class MaxRestartsExceededError(NoexppError):
    """A supervisor exceeded its restart intensity and stopped."""


class MissingChildTemplateError(NoexppError):
    """simple_one_for_one needs a child template."""


class InvalidSimpleOneForOneError(NoexppError):
    """simple_one_for_one supervisors take no static children."""


class BehaviorNotFoundError(NoexppError):
    """No behavior is registered under that name."""


class NoAvailableNodeError(NoexppError):
    """No node satisfies the child's node selector."""


class SupervisorNotRunning(NoexppError):
    """The supervisor is not running."""


class MessageTooLargeError(NoexppError, ValueError):
    """A message to a remote process encodes to more than the cluster's frame
    maximum (``max_message_size``); it was not sent."""


class Overloaded(NoexppError):
    """A message to a process on another node could not leave within the
    node's ``overload_timeout``: the connection's send queue stayed at its
    bound (``max_send_queue`` bytes), because the peer or the network is
    slower than the senders. The message was not sent."""


class MailboxFull(Overloaded):
    """A message to a process on another node could not leave within the
    node's ``overload_timeout``: that node said the process's mailbox is over
    its limit for messages from other nodes (``remote_mailbox_limit``) and
    has not drained since. The message was not sent."""


class ProcessKilled(BaseException):
    """Raised inside the Python handler of a process that was killed while
    the handler ran (``ref.kill()``, a supervisor's brutal kill, a node's
    stop past its grace): the process is already dead for everyone, and this
    cuts its abandoned handler short at the next Python bytecode. A
    ``BaseException``, as ``KeyboardInterrupt`` is, so that ``except
    Exception`` in the handler does not swallow it. A handler blocked in C
    (a lock, a socket) is not interrupted; its thread stays behind."""
