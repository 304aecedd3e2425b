"""C++ and Python children under one supervisor. The supervisor runs in the
engine and treats both alike: a ChildSpec names a C++ behavior by its
registered name ("noexpp.probe" ships with the module) or a Python class.

noexpp.probe: init(value=0, notify=None, trap_exit=False) sends ("up", self)
to `notify` once started and ("terminated", self, reason) from terminate;
calls "ping", "get", ("add", n), "crash"; casts "inc", "crash".

    python3 examples/cpp_children.py
"""
import queue
import threading

import noexpp

# What the C++ children send to the Listener. Spawn args travel as messages
# (they could go to another node), so the queue is shared at module level.
inbox = queue.Queue()


class Listener(noexpp.GenServer):
    """A Python process the C++ children report to."""

    def handle_info(self, message):
        inbox.put(message)


class Greeter(noexpp.GenServer):
    def handle_call(self, request, caller):
        return f"hello from Python, {request}"


def main():
    print("registered behaviors:", noexpp.behaviors())
    with noexpp.Node("example") as node:
        restarted = threading.Event()
        sup_stopped = threading.Event()
        stopped = []                        # (child_id, reason) in order

        def on_event(event):
            if event["type"] == "child_restarted":
                restarted.set()
            elif event["type"] == "child_stopped":
                stopped.append((event["child_id"], event["reason"]))
            elif event["type"] == "supervisor_stopped":
                sup_stopped.set()

        node.on_lifecycle_event(on_event)

        listener = node.spawn(Listener)
        sup = node.start_supervisor(children=[
            noexpp.ChildSpec("native", "noexpp.probe", args=(10, listener)),
            noexpp.ChildSpec("python", Greeter),
            # Traps exits and ignores the shutdown request: killed after 0.2 s.
            noexpp.ChildSpec("stubborn", "noexpp.probe", args=(0, listener, True), shutdown=0.2),
        ])
        print("messages:", inbox.get(timeout=5.0)[0], inbox.get(timeout=5.0)[0])
        for c in sup.which_children():
            print(f"  {c.id}: behavior={c.behavior}")

        native = sup.which_children()[0].ref
        print("native:", native.call("ping"), native.call(("add", 5)))
        print("python:", sup.which_children()[1].ref.call("C++"))

        try:
            native.call("crash")            # the C++ handler throws std::runtime_error
        except noexpp.ProcessCrashed as exc:
            print("native crashed:", exc.reason)
        print("its terminate reported:", inbox.get(timeout=5.0)[2])
        assert restarted.wait(timeout=5.0)
        assert inbox.get(timeout=5.0)[0] == "up"
        print("restarted with its initial value:", sup.which_children()[0].ref.call("get"))

        # Reverse start order: stubborn is killed after 0.2 s (no terminate),
        # python stops, native runs its C++ terminate.
        stopped.clear()
        sup.stop()
        assert sup_stopped.wait(timeout=5.0)
        for child_id, reason in stopped:
            print(f"  stopped {child_id}: {reason}")
        print("native's terminate at shutdown:", inbox.get(timeout=5.0)[2])


if __name__ == "__main__":
    main()
