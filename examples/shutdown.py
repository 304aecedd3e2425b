"""Shutdown: how a supervisor stops its children (sup.stop(), a restart of
a group, giving up, auto_shutdown). Children stop in reverse start order;
each gets an orderly shutdown request, then `shutdown` seconds to exit,
then it is killed.

  - A child that does not trap exits runs terminate("shutdown") and exits.
  - A child that traps exits gets noexpp.Exit(supervisor, "shutdown") in
    handle_info and must stop itself; if it does not, it is killed when its
    `shutdown` time runs out (terminate is not called).
  - shutdown=0 kills at once (brutal kill; terminate is not called).
  - shutdown=None waits as long as it takes (the default for supervisors).

    python3 examples/shutdown.py
"""
import threading
import time

import noexpp

journal = []  # appended from engine threads


class Plain(noexpp.GenServer):
    def init(self, name):
        self.name = name

    def terminate(self, reason):
        journal.append(f"{self.name}: terminate({reason})")


class Trapping(noexpp.GenServer):
    def init(self, name, obey):
        self.name, self.obey = name, obey
        self.trap_exit(True)

    def handle_info(self, message):
        if isinstance(message, noexpp.Exit):
            journal.append(f"{self.name}: got Exit({message.reason})"
                           + (", stopping" if self.obey else ", ignoring it"))
            if self.obey:
                self.stop(message.reason)

    def terminate(self, reason):
        journal.append(f"{self.name}: terminate({reason})")


def main():
    with noexpp.Node("example") as node:
        reasons = []
        done = threading.Event()

        def on_event(event):
            if event["type"] == "child_stopped":
                reasons.append(f"{event['child_id']}: {event['reason']}")
            elif event["type"] == "supervisor_stopped":
                done.set()

        node.on_lifecycle_event(on_event)

        sup = node.start_supervisor(children=[
            noexpp.ChildSpec("plain", Plain, args=("plain",)),                    # 5 s default
            noexpp.ChildSpec("brutal", Plain, args=("brutal",), shutdown=0),
            noexpp.ChildSpec("trapping", Trapping, args=("trapping", True)),
            noexpp.ChildSpec("stubborn", Trapping, args=("stubborn", False), shutdown=0.3),
        ])
        started = time.monotonic()
        sup.stop()                                   # returns once all are gone
        print(f"sup.stop() took {time.monotonic() - started:.1f} s (stubborn's 0.3 s)")
        assert done.wait(timeout=5.0)
        print("what the children saw:")
        for line in journal:
            print("  " + line)
        print("child_stopped events, in stop order:")
        for line in reasons:
            print("  " + line)


if __name__ == "__main__":
    main()
