"""A distributed supervisor: six jobs spread over three node processes; one
crashes and is restarted where it ran, then a whole node is killed (SIGKILL)
and its jobs come back on the two survivors, each exactly once.

LocalCluster starts three `python -m noexpp node` processes importing
cluster_example_behaviors (which registers "example.job"). The supervisor
runs on the cluster's controller node in this interpreter; a callable
selector spreads the jobs over the three node processes only.

    python3 examples/distributed_supervisor.py
"""
import queue
import time

import noexpp


def short(node_id):
    return node_id.split("@")[0]


def where(dsup):
    """job -> node, asked of every job itself."""
    return {c.id: short(c.ref.call("where")[1]) for c in dsup.children()}


def main():
    with noexpp.LocalCluster(3, mode="processes", modules=["cluster_example_behaviors"]) as cluster:
        members = cluster.ids
        controller = cluster.controller

        def spread(nodes, child_id):
            """The node processes only (not the controller), in turn by job number."""
            live = sorted(n.id for n in nodes if n.id in members and n.status == "up")
            return live[int(child_id.removeprefix("job")) % len(live)]

        events = queue.Queue()
        controller.on_lifecycle_event(events.put)
        jobs = [noexpp.DistributedChildSpec(f"job{i}", "example.job", args=(f"job{i}",))
                for i in range(6)]
        with controller.start_distributed_supervisor(jobs, node_selector=spread,
                                                     lease=1.0) as dsup:
            print("placed:", ", ".join(f"{j}@{n}" for j, n in where(dsup).items()))

            # 1. A crash: restarted by its selector, counted toward max_restarts.
            job1 = dsup.child("job1")
            try:
                job1.ref.call("crash")
            except noexpp.ProcessCrashed as exc:
                print(f"job1 crashed: {exc.reason}")
            while dsup.child("job1").restart_count == 0 or dsup.child("job1").ref is None:
                time.sleep(0.01)
            print(f"job1 restarted on {short(dsup.child('job1').node_id)}, "
                  f"restart_count={dsup.child('job1').restart_count}")

            # 2. A node lost: its jobs wait out the lease (their old copies
            #    have certainly stopped), then start on a survivor, uncounted.
            victim = cluster.nodes[0]
            lost = sorted(c.id for c in dsup.children() if c.node_id == victim.id)
            start = time.monotonic()
            cluster.kill(victim)                           # SIGKILL
            moved = {}
            while len(moved) < len(lost):
                event = events.get(timeout=30.0)
                if event["type"] == "child_migrated":
                    moved[event["child_id"]] = short(event["to_node"])
            print(f"killed {short(victim.id)}: {', '.join(lost)} moved to "
                  f"{', '.join(f'{j}@{n}' for j, n in sorted(moved.items()))} "
                  f"after {time.monotonic() - start:.1f} s")
            census = where(dsup)
            print(f"every job answers once, none on {short(victim.id)}: "
                  f"{short(victim.id) not in census.values() and len(census) == 6}")
            stats = dsup.stats()
            by_node = sorted((short(k), v) for k, v in stats["children_by_node"].items())
            print(f"children_by_node: {dict(by_node)}")
            print(f"total_restarts={stats['total_restarts']} "
                  f"node_failure_restarts={stats['node_failure_restarts']} (not counted)")
        print(f"supervisor stopped: is_running={dsup.is_running}")


if __name__ == "__main__":
    main()
