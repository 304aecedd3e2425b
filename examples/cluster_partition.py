"""A network partition and its heal: both sides see the other go down, calls
across the cut fail fast with NodeDown, and after the heal the same Refs
work again (the nodes never restarted, so their processes are still there).

Three nodes in this interpreter (LocalCluster mode="threads"); the cut is
fault injection inside the nodes: each side drops the other's traffic, so
the failure detectors see the silence of a real cut network.

    python3 examples/cluster_partition.py
"""
import queue
import time

import noexpp


@noexpp.behavior("example.greeter")
class Greeter(noexpp.GenServer):
    def handle_call(self, request, caller):
        return f"{short(self.ref.node_id)} greets {request}"


def short(node_id):
    return node_id.split("@")[0]


def collect(events, expected, timeout=10.0):
    """The next `expected` events from the queue, as sorted
    (observer, event, node) lines."""
    deadline = time.monotonic() + timeout
    lines = [events.get(timeout=max(0.0, deadline - time.monotonic())) for _ in range(expected)]
    return sorted(lines)


def main():
    with noexpp.LocalCluster(3, mode="threads") as cluster:
        a, b, c = cluster.nodes
        print("cluster:", [short(i) for i in cluster.ids])

        events = queue.Queue()   # (who, what, about, reason) from every node
        for node in (a, b, c):
            who = short(node.id)
            node.on("node_down", lambda e, who=who: events.put(
                (who, "node_down", short(e["node"]), e["reason"])))
            node.on("node_up", lambda e, who=who: events.put(
                (who, "node_up", short(e["node"]), "")))

        on_b = a.spawn_remote(b.id, "example.greeter")   # used from a
        on_c = b.spawn_remote(c.id, "example.greeter")   # used from b
        print("before:", on_b.call("node1"), "|", on_c.call("node2"))

        start = time.monotonic()
        cluster.partition([a], [b, c])
        print("partition([node1], [node2, node3]):")
        for who, what, about, reason in collect(events, 4):   # 2 on each side
            print(f"  {who} saw {what} {about} ({reason})")
        print(f"  (all four after {time.monotonic() - start:.1f} s of silence)")

        t = time.monotonic()
        try:
            on_b.call("node1", timeout=30.0)
        except noexpp.NodeDown:
            print(f"node1 -> node2 across the cut: NodeDown after "
                  f"{(time.monotonic() - t) * 1000:.0f} ms")
        print("node2 -> node3 on the same side:", on_c.call("node2"))

        start = time.monotonic()
        cluster.heal()
        print("heal():")
        for who, what, about, _ in collect(events, 4):
            print(f"  {who} saw {what} {about}")
        print(f"  (reconnected after {(time.monotonic() - start) * 1000:.0f} ms)")
        print("after:", on_b.call("node1"), "|", on_c.call("node2"))


if __name__ == "__main__":
    main()
