"""Failure detection between real OS processes: a crashed node is found at
once, a frozen one by its silence, in about 1.6 s.

LocalCluster starts three nodes, each `python -m noexpp node` importing
cluster_example_behaviors (found because this script's directory is on
sys.path, which LocalCluster passes to its node processes). A Store runs on
node2; an observer Node in this interpreter joins the cluster and monitors
it. Then node2 is killed (SIGKILL) and node3 frozen (SIGSTOP).

    python3 examples/cluster_failover.py
"""
import queue
import time

import noexpp


def short(node_id):
    return node_id.split("@")[0]


def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


def main():
    with noexpp.LocalCluster(3, mode="processes", modules=["cluster_example_behaviors"]) as cluster:
        node1, node2, node3 = cluster.nodes
        print("cluster up:", ", ".join(f"{short(h.id)} (os pid {h.os_pid})" for h in cluster.nodes))

        # A process on node2, called from this interpreter (through the
        # cluster's hidden controller node).
        store = node2.spawn("example.store")
        store.call(("put", "answer", 42))
        where, os_pid = store.call("where")
        print(f"store runs on {short(where)} (os pid {os_pid}); get answer -> "
              f"{store.call(('get', 'answer'))}")

        # An observer: a plain Node that joins the cluster like any member.
        with noexpp.Node("observer", cookie=cluster.cookie) as observer:
            ups, downs = queue.Queue(), queue.Queue()
            observer.on("node_up", ups.put)
            observer.on("node_down", downs.put)
            observer.connect(node1.id)           # the members then connect to it too
            seen = set()
            while seen != set(cluster.ids):
                seen.add(ups.get(timeout=10.0)["node"])
            print(f"observer sees {len(seen)} members up")

            monitor_fired = queue.Queue()
            observer.monitor(store, lambda ref, reason: monitor_fired.put((ref, reason)))

            # 1. A crash: the kernel closes node2's sockets, peers know at once.
            start = time.monotonic()
            cluster.kill(node2)                  # SIGKILL
            down = downs.get(timeout=5.0)
            print(f"killed {short(node2.id)}: observer got node_down {short(down['node'])} "
                  f"reason={down['reason']} ({down['detail']}) after "
                  f"{ms(down['monotonic'] - start)}")
            _, reason = monitor_fired.get(timeout=5.0)
            print(f"monitor on the store fired: reason {reason}")
            start = time.monotonic()
            try:
                store.call("where", timeout=30.0)
            except noexpp.NodeDown as exc:
                print(f"call to the store: NodeDown after {ms(time.monotonic() - start)}, "
                      f"not at its 30 s timeout ({exc})")

            # 2. A freeze: node3 keeps its sockets open but says nothing.
            #    Only the missing heartbeats reveal it.
            start = time.monotonic()
            node3.suspend()                      # SIGSTOP
            try:
                down = downs.get(timeout=10.0)
                print(f"froze {short(node3.id)}: observer got node_down {short(down['node'])} "
                      f"reason={down['reason']} ({down['detail']}) after "
                      f"{ms(down['monotonic'] - start)}")
            finally:
                node3.resume()                   # SIGCONT, before the cluster closes
            up = ups.get(timeout=10.0)
            print(f"resumed {short(node3.id)}: observer got node_up {short(up['node'])} again")
            print("members seen by the observer:",
                  [(short(i.id), i.status) for i in observer.nodes()])


if __name__ == "__main__":
    main()
