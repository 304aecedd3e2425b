"""A supervision tree, three supervisors deep. A SupervisorSpec is a child's
behavior: the nested supervisor is a child like any other (restart type,
shutdown, default shutdown None = wait as long as it takes).

    root (one_for_one)
    +-- api                 worker
    +-- storage (one_for_all)
        +-- db              worker
        +-- pool (one_for_one, max_restarts=1)
            +-- conn1       worker
            +-- conn2       worker

A crash is handled by the nearest supervisor. When a supervisor gives up
(restart intensity), it exits with reason shutdown and its own supervisor
handles that exit by its strategy: the failure escalates up the tree.

    python3 examples/nested_tree.py
"""
import queue

import noexpp


class Worker(noexpp.GenServer):
    def handle_call(self, request, caller):
        if request == "crash":
            raise RuntimeError("connection reset")
        return "ok"


def main():
    pool = noexpp.SupervisorSpec(
        children=[noexpp.ChildSpec("conn1", Worker, name="conn1"),
                  noexpp.ChildSpec("conn2", Worker, name="conn2")],
        strategy="one_for_one", max_restarts=1, within=5.0, name="pool")
    storage = noexpp.SupervisorSpec(
        children=[noexpp.ChildSpec("db", Worker, name="db"),
                  noexpp.ChildSpec("pool", pool)],
        strategy="one_for_all", name="storage")

    with noexpp.Node("example") as node:
        events = queue.Queue()
        node.on_lifecycle_event(events.put)

        def show_until(supervisor, type_, child_id):
            """Prints events (as `supervisor: type child`) up to the one given."""
            while True:
                e = events.get(timeout=5.0)
                line = f"  {e['supervisor']:>8}: {e['type']} {e.get('child_id', '')}"
                print(line + (f" ({e['reason']})" if e["type"] == "child_stopped" else ""))
                if (e["supervisor"], e["type"], e.get("child_id")) == (supervisor, type_, child_id):
                    return e

        root = node.start_supervisor(
            children=[noexpp.ChildSpec("api", Worker, name="api"),
                      noexpp.ChildSpec("storage", storage)],
            strategy="one_for_one", name="root")
        print("starting the tree (children start in order, depth first):")
        show_until("root", "child_started", "storage")
        print("root's children:", [(c.id, c.behavior) for c in root.which_children()],
              root.count_children())

        api = node.whereis("api")
        db = node.whereis("db")

        print("conn1 crashes once: pool restarts it")
        try:
            node.whereis("conn1").call("crash")
        except noexpp.ProcessCrashed:
            pass
        show_until("pool", "child_restarted", "conn1")

        print("conn1 crashes again: pool gives up, storage restarts its group")
        try:
            node.whereis("conn1").call("crash")
        except noexpp.ProcessCrashed:
            pass
        show_until("storage", "child_restarted", "pool")

        print("db restarted:", node.whereis("db") != db)
        print("api untouched:", node.whereis("api") == api)
        print("root stats:", {k: root.stats()[k] for k in ("health", "total_restarts")})
        root.stop()


if __name__ == "__main__":
    main()
