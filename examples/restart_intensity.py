"""Restart intensity: more than max_restarts restarts within `within` seconds
means restarting does not help. The supervisor then stops its children and
itself (reason shutdown), and stats()["error"] says why.

    python3 examples/restart_intensity.py
"""
import threading

import noexpp


class Flaky(noexpp.GenServer):
    """Starts fine, then fails at once: a crash loop."""

    def init(self):
        self.continue_with("connect")

    def handle_continue(self, arg):
        raise ConnectionError("database unreachable")


class Steady(noexpp.GenServer):
    def terminate(self, reason):
        print(f"  steady: terminate({reason})")


def main():
    with noexpp.Node("example") as node:
        gave_up = threading.Event()

        def on_event(event):
            if event["supervisor"] != "app":
                return
            keys = ("child_id", "attempt", "max_restarts", "within", "reason")
            fields = {k: event[k] for k in keys if k in event}
            print(f"event {event['type']}: {fields}")
            if event["type"] == "supervisor_stopped":
                gave_up.set()

        node.on_lifecycle_event(on_event)

        sup = node.start_supervisor(
            children=[noexpp.ChildSpec("steady", Steady), noexpp.ChildSpec("flaky", Flaky)],
            max_restarts=3, within=5.0,     # the 4th restart within 5 s is one too many
            name="app",
        )
        # A monitor fires once the supervisor process has exited (at once if
        # it already has); the event tells that it stopped and why.
        exited = threading.Event()
        node.monitor(sup.ref, lambda ref, reason: exited.set())
        assert gave_up.wait(timeout=5.0), "the supervisor did not give up"
        assert exited.wait(timeout=5.0)

        stats = sup.stats()                 # still answers after the supervisor stopped
        print("is_running:", sup.is_running)
        print("health:", stats["health"])
        print("total_restarts:", stats["total_restarts"])
        print("error:", type(stats["error"]).__name__)
        print("stop_reason:", stats["stop_reason"])
        assert isinstance(stats["error"], noexpp.MaxRestartsExceededError)


if __name__ == "__main__":
    main()
