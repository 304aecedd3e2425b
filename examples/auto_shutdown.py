"""auto_shutdown: a supervisor that ends by itself when its significant
children are done. A significant child must be transient or temporary; its
exit ends the supervisor only when it is not restarted (a transient child
that crashes is restarted as usual).

  any_significant: the first significant child to end stops the supervisor.
  all_significant: the supervisor stops when every significant child ended.

The supervisor exits with reason shutdown, so a transient parent spec does
not bring it back: a batch of work under a long-lived root.

    python3 examples/auto_shutdown.py
"""
import queue
import threading

import noexpp


class Job(noexpp.GenServer):
    """Does `steps` steps of work (one per timer tick), then stops normally."""

    def init(self, steps):
        self.left = steps
        self.send_after(0.01, "step")

    def handle_info(self, message):
        self.left -= 1
        if self.left == 0:
            self.stop()                    # reason "normal"
        else:
            self.send_after(0.01, "step")


class Reporter(noexpp.GenServer):
    """A helper that runs as long as the batch does."""


def main():
    with noexpp.Node("example") as node:
        events = queue.Queue()
        node.on_lifecycle_event(events.put)

        def show_until(supervisor, type_, child_id=None):
            while True:
                e = events.get(timeout=5.0)
                if e["type"] in ("child_stopped", "supervisor_stopped"):
                    child = e.get("child_id", "")
                    print(f"  {e['supervisor']:>6}: {e['type']} {child} ({e['reason']})")
                if (e["supervisor"], e["type"], e.get("child_id")) == (supervisor, type_, child_id):
                    return e

        print("any_significant: 'quick' finishes first and ends the supervisor")
        sup = node.start_supervisor(
            children=[
                noexpp.ChildSpec("reporter", Reporter),
                noexpp.ChildSpec("quick", Job, args=(2,), restart="transient", significant=True),
                noexpp.ChildSpec("slow", Job, args=(20,), restart="transient", significant=True),
            ],
            auto_shutdown="any_significant", name="race")
        show_until("race", "supervisor_stopped")
        exited = threading.Event()       # fires once the process is gone
        node.monitor(sup.ref, lambda ref, reason: exited.set())
        assert exited.wait(timeout=5.0)
        print("  is_running:", sup.is_running, "| stop_reason:", sup.stats()["stop_reason"])

        print("all_significant, nested: the batch ends when both jobs are done")
        batch = noexpp.SupervisorSpec(
            children=[
                noexpp.ChildSpec("reporter", Reporter),
                noexpp.ChildSpec("part1", Job, args=(2,), restart="transient", significant=True),
                noexpp.ChildSpec("part2", Job, args=(6,), restart="temporary", significant=True),
            ],
            auto_shutdown="all_significant", name="batch")
        root = node.start_supervisor(
            children=[noexpp.ChildSpec("batch", batch, restart="transient")], name="root")
        show_until("root", "child_stopped", "batch")
        (info,) = root.which_children()
        print(f"  root keeps the spec of {info.id!r}, not running: ref={info.ref}")
        root.stop()


if __name__ == "__main__":
    main()
