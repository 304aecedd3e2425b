"""noexpp: Erlang/OTP-style processes and supervision on a C++ engine.

See https://github.com/ (docs/getting-started.md in the source tree).
"""
from __future__ import annotations

from . import _core, errors
from .distributed_supervisor import (
    DistributedChildInfo,
    DistributedChildSpec,
    DistributedSupervisor,
    DistributedSupervisorSpec,
)
from .errors import (
    AuthenticationError,
    BehaviorNotFoundError,
    CallingSelfError,
    CallTimeout,
    ChildNotFoundError,
    ChildRunningError,
    DuplicateChildError,
    DuplicateNameError,
    Ignored,
    InitError,
    InvalidSimpleOneForOneError,
    MailboxFull,
    MaxRestartsExceededError,
    MessageTooLargeError,
    MissingChildTemplateError,
    NoAvailableNodeError,
    NodeDown,
    NodeStopped,
    NoexppError,
    NoProcess,
    Overloaded,
    ProcessCrashed,
    ProcessKilled,
    SupervisorNotRunning,
    TlsConfigError,
)
from .gen_server import (
    Caller,
    Down,
    Exit,
    ExitReason,
    GenServer,
    Ignore,
    NoReply,
    Timer,
    behavior,
    behaviors,
    register_behavior,
)
from .local_cluster import LocalCluster, NodeHandle
from .node import Node, NodeInfo, ProcessInfo
from .ref import Ref, _ProcessCall
from .sdk import get_cmake_dir, get_include
from .supervisor import Backoff, ChildInfo, ChildSpec, Supervisor, SupervisorSpec
from .tls import TlsConfig

# The classes the engine builds or recognises, handed over once: the bindings
# never import the package by name.
_core.bind_python_types(no_reply=NoReply, ignore=Ignore, down=Down, exit=Exit,
                        process_call=_ProcessCall, errors=errors)

__version__ = "0.1.0"

__all__ = [
    "GenServer", "NoReply", "Down", "Exit", "Caller", "Timer", "ExitReason", "Ref",
    "register_behavior", "behavior", "behaviors", "Node", "NodeInfo", "ProcessInfo",
    "set_log_level", "ChildSpec", "SupervisorSpec", "Backoff", "Supervisor", "ChildInfo",
    "NoexppError", "CallTimeout", "NoProcess", "NodeDown", "ProcessCrashed", "CallingSelfError",
    "NodeStopped", "InitError", "AuthenticationError", "DuplicateNameError", "DuplicateChildError",
    "ChildNotFoundError", "MaxRestartsExceededError", "MissingChildTemplateError",
    "InvalidSimpleOneForOneError", "BehaviorNotFoundError", "NoAvailableNodeError",
    "SupervisorNotRunning", "ChildRunningError", "MessageTooLargeError", "LocalCluster",
    "NodeHandle", "Ignore", "Ignored", "UndefinedCallbackError", "Overloaded", "MailboxFull",
    "ProcessKilled", "TlsConfig", "TlsConfigError", "DistributedChildSpec",
    "DistributedSupervisorSpec", "DistributedSupervisor", "DistributedChildInfo",
    "get_include", "get_cmake_dir",
]


def set_log_level(level: str) -> None:
    """Sets the engine's log level: trace, debug, info, warning, error, critical or off."""
    if not isinstance(level, str):
        raise TypeError(f"level must be a str, not {type(level).__name__}")
    _core.set_log_level(level)
