"""Processes on other nodes, over real TCP on 127.0.0.1: a remote Ref works
exactly as a local one (call, call_async, cast, send, stop, alive, monitor,
link), for Python behaviors and the C++ "noexpp.probe", and travels inside
messages (location transparency, DESIGN §3 and §6)."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import noexpp
import pytest
from cluster_support import wait_members_up
from cluster_test_behaviors import ECHO, LINKER, PROBE, RELAY, SEQ
from helpers import TIMEOUT, Collector, InThread, MonitorRecorder, pause, run_in_threads, wait_for

pytest_plugins = ["cluster_fixtures"]


def _runtime_error_type(behavior: str) -> str:
    """How each language names the probe's RuntimeError in an exit reason."""
    return "std::runtime_error" if behavior == "noexpp.probe" else "RuntimeError"


def test_remote_ref_call_cast_send_stop_alive_work_as_locally(pair: Any, remote_probe: str) -> None:
    a, b = pair
    collector = Collector(a)
    ref = a.spawn_remote(b.id, remote_probe, 5, collector.ref)
    up = collector.get()
    assert up[0] == "up" and up[1] == ref          # the Ref came back over the wire
    assert ref.node_id == b.id
    assert ref.alive is True
    assert b.processes()[0].ref == ref            # it runs on b, not here
    assert a.process_count() == 1                 # (only the collector)

    assert ref.call("ping", timeout=TIMEOUT) == "pong"
    assert ref.call("get", timeout=TIMEOUT) == 5
    assert ref.call(("add", 10), timeout=TIMEOUT) == 15
    ref.cast("inc")
    ref.send("inc")
    assert ref.call("get", timeout=TIMEOUT) == 17   # cast and send arrived, in order
    with pytest.raises(noexpp.ProcessCrashed):
        ref.call(("unknown", "request"), timeout=TIMEOUT)
    assert collector.get()[0] == "terminated"
    wait_for(lambda: not ref.alive, what="the crashed probe to be gone")

    ref2 = a.spawn_remote(b.id, remote_probe, 0, collector.ref)
    assert collector.get() == ("up", ref2)
    assert ref2 != ref
    ref2.stop()
    assert collector.get() == ("terminated", ref2, "normal")
    assert ref2.alive is False
    assert a._request(b.id, ("alive", ref2), timeout=TIMEOUT) is False
    with pytest.raises(noexpp.NoProcess):
        ref2.call("ping", timeout=TIMEOUT)
    with pytest.raises(noexpp.NoProcess):
        ref2.stop()
    ref2.cast("inc")   # to a dead process: dropped silently, as locally
    ref2.send("inc")
    assert b.process_count() == 0


def test_remote_stop_with_reason_reaches_terminate(pair: Any, remote_probe: str) -> None:
    a, b = pair
    collector = Collector(a)
    ref = a.spawn_remote(b.id, remote_probe, 0, collector.ref)
    assert collector.get() == ("up", ref)
    ref.stop(reason="shutdown", timeout=TIMEOUT)
    assert collector.get() == ("terminated", ref, "shutdown")
    assert not ref.alive


def test_call_async_from_asyncio_reaches_remote_processes(pair: Any, remote_probe: str) -> None:
    a, b = pair
    ref = a.spawn_remote(b.id, remote_probe, 0)

    async def main() -> list[Any]:
        adds = [ref.call_async(("add", 1), timeout=TIMEOUT) for _ in range(50)]
        results = await asyncio.gather(*adds)
        crash = ref.call_async("crash", timeout=TIMEOUT)
        with pytest.raises(noexpp.ProcessCrashed):
            await crash
        return results

    results = asyncio.run(asyncio.wait_for(main(), TIMEOUT * 2))
    assert sorted(results) == list(range(1, 51))


def test_call_async_to_a_dead_remote_node_fails_with_node_down(pair: Any) -> None:
    a, b = pair
    ref = a.spawn_remote(b.id, PROBE)
    b._abort()

    async def main() -> None:
        with pytest.raises(noexpp.NodeDown):
            await ref.call_async("ping", timeout=30.0)

    start = time.monotonic()
    asyncio.run(asyncio.wait_for(main(), TIMEOUT))
    assert time.monotonic() - start < 2.0


def test_ref_sent_inside_a_message_to_a_third_node_is_usable_there(make_cluster_node: Any) -> None:
    a = make_cluster_node("alpha")
    b = make_cluster_node("beta", seeds=[a.id])
    c = make_cluster_node("gamma", seeds=[a.id])
    wait_members_up([a, b, c])
    collector = Collector(a)
    target = a.spawn_remote(b.id, "noexpp.probe", 1)
    relay = a.spawn_remote(c.id, RELAY)

    # The Ref to a process on b travels a -> c inside a tuple; c uses it.
    assert relay.call(("call_via", target, "ping"), timeout=TIMEOUT) == "pong"
    assert relay.call(("cast_via", target, "inc"), timeout=TIMEOUT) == "ok"
    assert relay.call(("call_via", target, "get"), timeout=TIMEOUT) == 2
    # A Ref to a process on a, used from c, reaches a.
    assert relay.call(("send_via", collector.ref, ("from", "gamma")), timeout=TIMEOUT) == "ok"
    assert collector.get() == ("from", "gamma")
    # Refs nested in containers come back equal and usable.
    nested = {"refs": [target, (collector.ref, relay)], "n": 1}
    back = relay.call(("echo_refs", nested), timeout=TIMEOUT)
    assert back == nested
    assert back["refs"][0].call("get", timeout=TIMEOUT) == 2
    assert back["refs"][0].node_id == b.id
    assert relay.call(("types", [target, collector.ref]), timeout=TIMEOUT) == ["Ref", "Ref"]
    # A Ref to a process on the relay's own node arrives as a local ref there.
    local_to_c = a.spawn_remote(c.id, "noexpp.probe", 7)
    assert relay.call(("call_via", local_to_c, "get"), timeout=TIMEOUT) == 7


def test_values_round_trip_to_a_remote_process_unchanged(pair: Any) -> None:
    a, b = pair
    ref = a.spawn_remote(b.id, ECHO)
    values = [None, True, False, 0, -1, 2**62, -(2**63), 1.5, float("inf"), "", "ünïcødé ✓",
              b"", b"\x00\xff" * 100, [], (), [1, [2, [3]]], (1, (2, "x")), {}, {"k": [1, 2]},
              {1: "int key", "s": None}, "x" * 70000]
    for v in values:
        assert ref.call(v, timeout=TIMEOUT) == v
        assert type(ref.call(v, timeout=TIMEOUT)) is type(v)
    with pytest.raises(TypeError):
        ref.call(object(), timeout=TIMEOUT)
    assert ref.call("still", timeout=TIMEOUT) == "still"


def test_100000_casts_from_one_sender_arrive_in_order(pair: Any) -> None:
    a, b = pair
    ref = a.spawn_remote(b.id, SEQ)
    total = 100_000
    for i in range(total):
        ref.cast(("seq", i))
    # The call travels behind every cast on the same connection.
    count, first_gap = ref.call("stats", timeout=60.0)
    assert first_gap is None
    assert count == total


def test_100000_casts_from_a_remote_process_arrive_in_order(pair: Any) -> None:
    a, b = pair

    class Blaster(noexpp.GenServer):
        def handle_call(self, request: Any, caller: Any) -> Any:
            target, total = request
            for i in range(total):
                target.cast(("seq", i))
            return total

    receiver = a.spawn_remote(b.id, SEQ)
    sender = a.spawn(Blaster)
    assert sender.call((receiver, 100_000), timeout=60.0) == 100_000
    count, first_gap = receiver.call("stats", timeout=60.0)
    assert first_gap is None
    assert count == 100_000


def test_remote_process_crashing_in_a_call_raises_process_crashed_with_reason(
        pair: Any, remote_probe: str) -> None:
    a, b = pair
    ref = a.spawn_remote(b.id, remote_probe)
    with pytest.raises(noexpp.ProcessCrashed) as info:
        ref.call("crash", timeout=TIMEOUT)
    reason = info.value.reason
    assert reason.kind == "error"
    assert reason.is_abnormal
    assert reason.error_type == _runtime_error_type(remote_probe)
    assert reason.message == "crash requested"
    assert "crash requested" in str(info.value)
    wait_for(lambda: not ref.alive, what="the crashed process to be gone")
    with pytest.raises(noexpp.NoProcess):
        ref.call("ping", timeout=TIMEOUT)


def test_remote_process_crashing_while_a_call_is_open_raises_process_crashed(pair: Any) -> None:
    a, b = pair
    collector = Collector(a)
    ref = a.spawn_remote(b.id, ECHO, collector.ref)
    held = InThread(ref.call, ("hold",), timeout=30.0)
    assert collector.get() == ("held",)
    start = time.monotonic()
    ref.cast("crash")
    held.wait()
    assert held.ended_at - start < 5.0          # not at the 30 s timeout
    assert isinstance(held.error, noexpp.ProcessCrashed), held.error
    assert held.error.reason.message == "crash requested"


def test_remote_call_to_held_caller_is_answered_by_a_later_cast(pair: Any) -> None:
    a, b = pair
    collector = Collector(a)
    ref = a.spawn_remote(b.id, ECHO, collector.ref)
    held = InThread(ref.call, ("hold",), timeout=TIMEOUT)
    assert collector.get() == ("held",)
    ref.cast(("release", {"late": "reply"}))
    held.wait()
    assert held.error is None
    assert held.result == {"late": "reply"}


def test_remote_call_times_out_with_call_timeout(pair: Any) -> None:
    a, b = pair
    ref = a.spawn_remote(b.id, ECHO)
    start = time.monotonic()
    with pytest.raises(noexpp.CallTimeout):
        ref.call(("hold",), timeout=0.3)
    assert 0.25 < time.monotonic() - start < 3.0
    assert ref.call("after", timeout=TIMEOUT) == "after"


def test_a_zero_timeout_is_refused_for_a_remote_call_as_for_a_local_one(pair: Any) -> None:
    a, b = pair
    ref = a.spawn_remote(b.id, ECHO)
    with pytest.raises(ValueError, match="timeout must be > 0"):
        ref.call("now", timeout=0)
    assert ref.call("after", timeout=TIMEOUT) == "after"


def test_remote_monitor_delivers_down_with_the_exit_reason(pair: Any, remote_probe: str) -> None:
    a, b = pair
    collector = Collector(a)
    target = a.spawn_remote(b.id, remote_probe)
    # from the test (node.monitor callback) and from a process (self.monitor -> Down)
    monitor = MonitorRecorder()
    a.monitor(target, monitor.callback)
    watcher = a.spawn_remote(a.id, LINKER, collector.ref)
    assert watcher.call(("monitor", target), timeout=TIMEOUT) == "monitoring"
    # a watcher on the target's own node as well, for comparison
    local_watcher = a.spawn_remote(b.id, LINKER, collector.ref)
    assert local_watcher.call(("monitor", target), timeout=TIMEOUT) == "monitoring"

    # the same stop on a local process, for the expected reason
    local = a.spawn(remote_probe if remote_probe == "noexpp.probe" else PROBE)
    local_monitor = MonitorRecorder()
    a.monitor(local, local_monitor.callback)
    local.cast(("stop", "custom_reason"))
    local_reason = local_monitor.wait(1)[0][1]

    target.cast(("stop", "custom_reason"))

    ref, reason, _ = monitor.wait(1)[0]
    assert ref == target
    assert reason.detail == "custom_reason"
    assert reason == local_reason
    assert str(reason) == str(local_reason)
    downs = [collector.get(), collector.get()]
    assert downs == [("down", target, str(local_reason))] * 2
    pause(0.3)
    assert len(monitor.reasons()) == 1
    assert collector.inbox.drain() == []


def test_remote_monitor_of_a_crash_carries_the_error(pair: Any, remote_probe: str) -> None:
    a, b = pair
    target = a.spawn_remote(b.id, remote_probe)
    monitor = MonitorRecorder()
    a.monitor(target, monitor.callback)
    target.cast("crash")
    reason = monitor.wait(1)[0][1]
    assert reason.kind == "error"
    assert reason.error_type == _runtime_error_type(remote_probe)
    assert reason.message == "crash requested"


def test_remote_monitor_of_a_dead_process_fires_noproc(pair: Any) -> None:
    a, b = pair
    target = a.spawn_remote(b.id, PROBE)
    target.stop()
    monitor = MonitorRecorder()
    a.monitor(target, monitor.callback)
    monitor.wait(1)
    pause(0.2)
    assert [str(r) for r in monitor.reasons()] == ["noproc"]


def test_remote_demonitor_stops_the_down(pair: Any) -> None:
    a, b = pair
    target = a.spawn_remote(b.id, PROBE)
    removed = MonitorRecorder()
    mon = a.monitor(target, removed.callback)
    a.demonitor(target, mon)
    control = MonitorRecorder()
    a.monitor(target, control.callback)
    target.stop()
    control.wait(1)
    pause(0.2)
    assert [str(r) for r in control.reasons()] == ["normal"]
    assert removed.reasons() == []


def test_remote_link_exit_reaches_a_trapping_process_as_exit_message(pair: Any) -> None:
    a, b = pair
    collector = Collector(a)
    trapper = a.spawn_remote(a.id, LINKER, collector.ref, True)
    victim = a.spawn_remote(b.id, LINKER, collector.ref, False)
    assert trapper.call(("link", victim), timeout=TIMEOUT) == "linked"   # link made on a, to b

    victim.cast("crash")

    got = {m[0]: m for m in (collector.get(), collector.get())}
    assert got["terminated"][:2] == ("terminated", victim)
    exit_msg = got["exit"]
    assert exit_msg[1] == victim
    assert "linker crash requested" in exit_msg[2]
    assert trapper.call("ping", timeout=TIMEOUT) == "pong"     # trapping: it lives on


def test_remote_link_exit_kills_a_non_trapping_process_on_the_other_node(pair: Any) -> None:
    a, b = pair
    collector = Collector(a)
    # link made from a to b; a's side crashes; b's side does not trap: it dies
    linker_a = a.spawn_remote(a.id, LINKER, collector.ref, False)
    linked_b = a.spawn_remote(b.id, LINKER, collector.ref, False)
    assert linker_a.call(("link", linked_b), timeout=TIMEOUT) == "linked"
    b_died = MonitorRecorder()
    a.monitor(linked_b, b_died.callback)

    linker_a.cast("crash")

    b_reason = b_died.wait(1)[0][1]
    assert b_reason.kind == "error"
    assert b_reason.message == "linker crash requested"
    assert not linked_b.alive
    with pytest.raises(noexpp.NoProcess):
        linked_b.call("ping", timeout=TIMEOUT)


def test_remote_link_made_on_the_far_side_propagates_back(pair: Any) -> None:
    a, b = pair
    collector = Collector(a)
    # link made on b (to a process on a); b's process crashes; a's dies
    near = a.spawn_remote(a.id, LINKER, collector.ref, False)
    far = a.spawn_remote(b.id, LINKER, collector.ref, False)
    assert far.call(("link", near), timeout=TIMEOUT) == "linked"
    near_died = MonitorRecorder()
    a.monitor(near, near_died.callback)

    far.cast("crash")

    assert near_died.wait(1)[0][1].message == "linker crash requested"
    # and a trapping process on b linked from a sees a's exit as a message
    trapper_b = a.spawn_remote(b.id, LINKER, collector.ref, True)
    crasher_a = a.spawn_remote(a.id, LINKER, collector.ref, False)
    assert crasher_a.call(("link", trapper_b), timeout=TIMEOUT) == "linked"
    collector.inbox.drain()
    crasher_a.cast("crash")
    msg = collector.get_match(lambda m: m[0] == "exit")
    assert msg[1] == crasher_a and "linker crash requested" in msg[2]
    assert trapper_b.call("ping", timeout=TIMEOUT) == "pong"


def test_remote_link_normal_exit_does_not_kill(pair: Any) -> None:
    a, b = pair
    collector = Collector(a)
    near = a.spawn_remote(a.id, LINKER, collector.ref, False)
    far = a.spawn_remote(b.id, PROBE)
    assert near.call(("link", far), timeout=TIMEOUT) == "linked"
    far.stop()
    wait_for(lambda: not far.alive, what="far to stop")
    # a normal exit is not propagated to a non-trapping linked process
    assert near.call("ping", timeout=TIMEOUT) == "pong"


def test_remote_link_to_a_dead_process_sends_noproc_exit(pair: Any) -> None:
    a, b = pair
    collector = Collector(a)
    dead = a.spawn_remote(b.id, PROBE)
    dead.stop()
    trapper = a.spawn_remote(a.id, LINKER, collector.ref, True)
    trapper.call(("link", dead), timeout=TIMEOUT)
    assert collector.get() == ("exit", dead, "noproc")


def test_oversized_message_raises_at_the_sender_and_the_connection_keeps_working(
        make_cluster_node: Any, membership: Any) -> None:
    limit = 64 * 1024
    a = make_cluster_node("alpha", max_message_size=limit)
    b = make_cluster_node("beta", seeds=[a.id], max_message_size=limit)
    wait_members_up([a, b])
    rec_a, rec_b = membership(a), membership(b)
    collector = Collector(a)
    ref = a.spawn_remote(b.id, ECHO, collector.ref)
    big = b"x" * (limit + 1)

    with pytest.raises(noexpp.MessageTooLargeError):
        ref.call(big, timeout=TIMEOUT)
    with pytest.raises(noexpp.MessageTooLargeError):
        ref.cast(big)
    with pytest.raises(noexpp.MessageTooLargeError):
        ref.send(("wrapped", [big]))
    with pytest.raises(noexpp.MessageTooLargeError):
        a.spawn_remote(b.id, ECHO, big)
    # A message just under the limit goes through, and the order holds.
    ok = b"y" * (limit - 1024)
    assert ref.call(ok, timeout=TIMEOUT) == ok
    ref.cast("after")
    assert collector.get() == ("cast", "after")
    assert ref.call("ping", timeout=TIMEOUT) == "ping"
    # A reply over the limit fails the call at the caller, not the connection.
    with pytest.raises(noexpp.MessageTooLargeError):
        ref.call(("big", limit + 1), timeout=TIMEOUT)
    assert ref.call("still up", timeout=TIMEOUT) == "still up"
    # Locally there is no frame limit.
    local = a.spawn_remote(a.id, ECHO)
    assert len(local.call(big, timeout=TIMEOUT)) == len(big)
    assert rec_a.select() == [] and rec_b.select() == []
    assert all(i.status == "up" for i in a.nodes()[1:])


def test_spawn_remote_of_python_and_cpp_behaviors(pair: Any, remote_probe: str,
                                                  unique: Any) -> None:
    a, b = pair
    name = unique("spawned")
    ref = a.spawn_remote(b.id, remote_probe, 42, name=name, timeout=TIMEOUT)
    assert ref.node_id == b.id
    assert ref.call("get", timeout=TIMEOUT) == 42
    assert b.whereis(name) == ref
    assert a.whereis(name) is None
    assert a._request(b.id, ("whereis", name), timeout=TIMEOUT) == ref
    procs = b.processes()
    assert [(p.ref, p.name) for p in procs] == [(ref, name)]
    assert procs[0].behavior in (remote_probe, "Probe")
    with pytest.raises(noexpp.DuplicateNameError):
        a.spawn_remote(b.id, remote_probe, name=name, timeout=TIMEOUT)
    # spawn_remote to its own node spawns locally
    here = a.spawn_remote(a.id, remote_probe, 1)
    assert here.node_id == a.id and here.call("get", timeout=TIMEOUT) == 1


def test_spawn_remote_errors(pair: Any, make_cluster_node: Any) -> None:
    a, b = pair
    with pytest.raises(noexpp.BehaviorNotFoundError, match="cluster_test.nope"):
        a.spawn_remote(b.id, "cluster_test.nope", timeout=TIMEOUT)
    with pytest.raises(noexpp.InitError):
        a.spawn_remote(b.id, "cluster_test.busy", "not seconds", timeout=TIMEOUT)
    lonely = make_cluster_node("lonely")
    with pytest.raises(noexpp.NodeDown):
        a.spawn_remote(lonely.id, PROBE, timeout=TIMEOUT)
    with pytest.raises(TypeError):
        a.spawn_remote(b.id, noexpp.GenServer)  # type: ignore[arg-type]
    assert b.process_count() == 0


def test_concurrent_calls_from_many_threads_each_get_their_own_reply(pair: Any, remote_probe: str) -> None:
    a, b = pair
    echo = a.spawn_remote(b.id, ECHO)
    probe = a.spawn_remote(b.id, remote_probe, 0)
    mismatches: list[Any] = []

    def worker(w: int) -> None:
        for i in range(300):
            request = (w, i, "x" * (i % 50))
            reply = echo.call(request, timeout=TIMEOUT)
            if reply != request:
                mismatches.append((request, reply))
            probe.call(("add", 1), timeout=TIMEOUT)

    errors = run_in_threads(worker, 8)
    assert errors == [] and mismatches == []
    assert probe.call("get", timeout=TIMEOUT) == 8 * 300


def test_large_message_under_the_default_limit_round_trips(pair: Any) -> None:
    a, b = pair
    ref = a.spawn_remote(b.id, ECHO)
    payload = bytes(range(256)) * (8 * 1024 * 1024 // 256)   # 8 MiB, under 16 MiB
    assert ref.call(payload, timeout=30.0) == payload
    nested = [payload[:1024 * 1024]] * 4
    assert ref.call(nested, timeout=30.0) == nested
    assert ref.call("small after", timeout=TIMEOUT) == "small after"
