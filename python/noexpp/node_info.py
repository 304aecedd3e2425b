"""NodeInfo: a member of the cluster as a node sees it (a leaf module:
the node and the distributed supervisor's selectors both hand it out)."""
from __future__ import annotations

from typing import NamedTuple

__all__ = ["NodeInfo"]


class NodeInfo(NamedTuple):
    """A member of the cluster as this node sees it.

    ``status`` is "self" (this node), "up", "connecting" or "down".
    ``process_count`` comes with each heartbeat (-1 while unknown);
    ``last_heartbeat`` is how many seconds ago the last one arrived and
    ``rtt`` the last heartbeat's round trip in seconds (None when unknown).
    """

    id: str
    status: str
    process_count: int
    last_heartbeat: float | None = None
    rtt: float | None = None
