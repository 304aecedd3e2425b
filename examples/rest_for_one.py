"""rest_for_one: when a child crashes, it and the children started after it
are restarted; the ones started before it keep running. For a chain where
each child depends on the ones before it.

    python3 examples/rest_for_one.py
"""
import threading

import noexpp

journal = []  # what the children did, in order (appended from engine threads)


class Stage(noexpp.GenServer):
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
        last_back = threading.Event()

        def on_event(event):
            if event["type"] == "child_restarted" and event["child_id"] == "api":
                last_back.set()

        node.on_lifecycle_event(on_event)

        # "cache" needs "db"; "api" needs "cache".
        sup = node.start_supervisor(
            children=[noexpp.ChildSpec(name, Stage, args=(name,))
                      for name in ("db", "cache", "api")],
            strategy="rest_for_one",
        )
        before = {c.id: c.ref for c in sup.which_children()}

        journal.clear()
        print("crashing 'cache'...")
        before["cache"].cast("crash")
        assert last_back.wait(timeout=5.0), "the rest was not restarted"

        for line in journal:
            print("  " + line)
        for child in sup.which_children():
            state = "restarted" if child.ref != before[child.id] else "untouched"
            print(f"{child.id}: {state}")
        sup.stop()


if __name__ == "__main__":
    main()
