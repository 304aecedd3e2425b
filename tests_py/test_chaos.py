"""Chaos: five node processes on 127.0.0.1 (real TCP, one cookie), each with
a supervisor of permanent children and global names, under a seeded random
sequence of faults: SIGKILL (then a new process under the same node id),
SIGSTOP then SIGCONT, partitions and slow links (LocalCluster.partition /
delay), and crashes of supervised children. At least three members stay
healthy throughout. Once every fault has ended, the cluster must converge:
every member sees the same members and the same global names (each to the
same live pid, none of a dead incarnation), every supervisor runs each of
its permanent children exactly once with sane restart counts, and no node
process leaked processes, threads or file descriptors.

Short by default (a few seconds of faults, for CI). Environment:
``NOEXPP_CHAOS_SECONDS`` (seconds of faults, default 12; e.g. 300 for a long
run), ``NOEXPP_CHAOS_SEED`` (the random seed; a failure prints the one it
used, with the log of faults).
"""
from __future__ import annotations

import os
import random
import socket
from collections.abc import Callable, Iterator
from typing import Any

import noexpp
import pytest
from chaos_support import ChaosRun
from helpers import close_cluster, wait_for

pytest_plugins = ["cluster_fixtures"]

SECONDS = float(os.environ.get("NOEXPP_CHAOS_SECONDS") or 12.0)
SEED = int(os.environ.get("NOEXPP_CHAOS_SEED") or random.SystemRandom().randrange(2**32))
#: Bound for the cluster to converge once every fault ended (generous: a
#: loaded 2-CPU machine; the usual time is a few seconds).
CONVERGE_TIMEOUT = 60.0

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(SECONDS + 240)]


@pytest.fixture
def chaos(process_cluster: Callable[..., noexpp.LocalCluster]) -> Iterator[ChaosRun]:
    """The five-node cluster and its ChaosRun; at teardown (also after a
    failure) the run is stopped first, then every node process (restarted
    ones included) and the controller are stopped by process_cluster."""
    cluster = process_cluster(5, modules=["chaos_behaviors"])
    run = ChaosRun(cluster, SEED)
    try:
        yield run
    finally:
        run.stop()


def _converged(run: ChaosRun, what: str, check_leaks: bool) -> None:
    last: list[list[str]] = [[]]

    def ok() -> bool:
        last[0] = run.problems(check_leaks=check_leaks)
        return not last[0]
    try:
        wait_for(ok, CONVERGE_TIMEOUT, interval=0.2, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}; still wrong:\n  " + "\n  ".join(last[0])
                             + f"\n{run.context()}\n{run.log_tails()}") from None


def test_chaos_cluster_converges_after_kills_pauses_partitions_and_crashes(
        chaos: ChaosRun) -> None:
    """See the module docstring; the seed and the fault log are printed."""
    run = chaos
    print(f"chaos: seed {SEED}, {SECONDS:g} s of faults")
    run.setup_all()

    try:
        run.run(SECONDS)
    except Exception as e:
        raise AssertionError(f"applying a fault failed: {e!r}\n{run.context()}") from e

    assert not run.errors, "\n".join(run.errors) + "\n" + run.context()
    # Membership, names, supervision, process counts: as after setup.
    _converged(run, "the cluster to converge after the chaos", check_leaks=False)
    # Threads and fds come back to their baseline (closing sockets and
    # ending threads may lag behind the membership a little).
    _converged(run, "threads and fds back to their baseline", check_leaks=True)
    ctl = run.ctl
    assert ctl is not None
    for slot in run.slots:
        report: dict[str, Any] = run._report(slot)
        for _, ref, _, _, _ in report["children"]:
            assert ref.call("ping", timeout=10.0) == "pong", run.context()
        for name, ref in slot.holders.items():
            assert ctl.global_registry.whereis(name) in (ref, None)  # hidden: may lag
            assert ref.call("ping", timeout=10.0) == "pong", run.context()
    for slot in run.slots:
        restarts = {c[0]: c[2] for c in run._report(slot)["children"]}
        print(f"{slot.name} incarnation {slot.incarnation}: restart counts {restarts}, "
              f"crashes confirmed {dict(slot.crash_done)}, threads/fds "
              f"{run.proc_counts_of(slot)} (baseline {slot.base_threads}/{slot.base_fds})")
    print(run.context())

    ports = [int(s.id.rsplit(":", 1)[1]) for s in run.slots]
    run.stop()
    close_cluster(run.cluster)
    for port in ports:  # every listener is gone: its port can be bound again
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
