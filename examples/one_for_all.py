"""one_for_all: when one child crashes, the supervisor stops the others
(newest first) and starts them all again in their start order. For children
that only work together (a connection and the session built on it).

    python3 examples/one_for_all.py
"""
import threading

import noexpp

journal = []  # what the children did, in order (appended from engine threads)


class Part(noexpp.GenServer):
    def init(self, name):
        self.name = name
        journal.append(f"start {name}")

    def handle_cast(self, request):
        if request == "crash":
            raise RuntimeError(f"{self.name} failed")

    def terminate(self, reason):
        journal.append(f"terminate {self.name} ({reason})")


def main():
    with noexpp.Node("example") as node:
        # The group restarts in start order, so "session" comes back last.
        all_back = threading.Event()

        def on_event(event):
            if event["type"] == "child_restarted" and event["child_id"] == "session":
                all_back.set()

        node.on_lifecycle_event(on_event)

        sup = node.start_supervisor(
            children=[noexpp.ChildSpec(name, Part, args=(name,))
                      for name in ("config", "connection", "session")],
            strategy="one_for_all",
        )
        before = {c.id: c.ref for c in sup.which_children()}

        journal.clear()
        print("crashing 'connection'...")
        before["connection"].cast("crash")
        assert all_back.wait(timeout=5.0), "the group was not restarted"

        for line in journal:
            print("  " + line)
        for child in sup.which_children():
            state = "restarted" if child.ref != before[child.id] else "untouched"
            print(f"{child.id}: {state}")
        print("total restarts counted:", sup.stats()["total_restarts"])
        sup.stop()


if __name__ == "__main__":
    main()
