"""one_for_one: a crashed child is restarted on its own; its siblings keep
running, and keep their state.

    python3 examples/one_for_one.py
"""
import threading

import noexpp


class Worker(noexpp.GenServer):
    def init(self, name):
        self.name = name
        self.calls = 0

    def handle_call(self, request, caller):
        if request == "crash":
            raise RuntimeError(f"{self.name} was asked to crash")
        self.calls += 1
        return f"{self.name} has answered {self.calls} call(s)"


def main():
    with noexpp.Node("example") as node:
        # Lifecycle events arrive on an engine thread; a threading.Event
        # hands "db is back" to this thread.
        db_restarted = threading.Event()

        def on_event(event):
            if event["type"] == "child_restarted" and event["child_id"] == "db":
                db_restarted.set()

        node.on_lifecycle_event(on_event)

        sup = node.start_supervisor(
            children=[
                noexpp.ChildSpec("cache", Worker, args=("cache",)),
                noexpp.ChildSpec("db", Worker, args=("db",)),
                noexpp.ChildSpec("web", Worker, args=("web",)),
            ],
            strategy="one_for_one",
            name="app",
        )
        before = {c.id: c.ref for c in sup.which_children()}
        print("started:", ", ".join(before))
        print(before["cache"].call("hello"))
        print(before["db"].call("hello"))

        try:
            before["db"].call("crash")
        except noexpp.ProcessCrashed as exc:
            print("the call failed:", exc.reason)

        assert db_restarted.wait(timeout=5.0), "db was not restarted"
        for child in sup.which_children():
            state = "restarted" if child.ref != before[child.id] else "untouched"
            print(f"{child.id}: {state} (restart_count={child.restart_count})")

        print(before["cache"].call("hello"))            # state kept
        print(sup.which_children()[1].ref.call("hello"))  # a fresh db
        sup.stop()


if __name__ == "__main__":
    main()
