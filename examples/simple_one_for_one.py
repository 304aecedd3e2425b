"""simple_one_for_one: many children of one kind, started on demand from a
template (one per user session, connection, job...). start_child(args)
appends its args to the template's.

    python3 examples/simple_one_for_one.py
"""
import threading

import noexpp


class Session(noexpp.GenServer):
    def init(self, region, user):          # template args + start_child args
        self.region, self.user = region, user
        self.hits = 0

    def handle_call(self, request, caller):
        if request == "crash":
            raise RuntimeError(f"session of {self.user} failed")
        self.hits += 1
        return f"{self.user}@{self.region}: {self.hits} hit(s)"

    def handle_cast(self, request):
        if request == "logout":
            self.stop()                    # a normal exit


def main():
    with noexpp.Node("example") as node:
        restarted = threading.Event()
        logged_out = threading.Event()

        def on_event(event):
            if event["type"] == "child_restarted":
                restarted.set()
            if event["type"] == "child_stopped" and event["reason"] == "normal":
                logged_out.set()

        node.on_lifecycle_event(on_event)

        sessions = node.start_supervisor(
            strategy="simple_one_for_one",
            child_template=noexpp.ChildSpec("session", Session, args=("eu-west",),
                                            restart="transient"),
            name="sessions",
        )
        alice = sessions.start_child(("alice",))
        bob = sessions.start_child(("bob",))
        carol = sessions.start_child(("carol",))
        print(alice.call("hit"))
        print(bob.call("hit"))
        print("children:", sessions.count_children())

        # transient: a crash is restarted, with the same args...
        try:
            bob.call("crash")
        except noexpp.ProcessCrashed as exc:
            print("bob's session crashed:", exc.reason)
        assert restarted.wait(timeout=5.0)
        new_bob = next(c.ref for c in sessions.which_children() if c.restart_count == 1)
        print("restarted:", new_bob.call("hit"))

        # ...a normal exit is not, and the child is forgotten.
        alice.cast("logout")
        assert logged_out.wait(timeout=5.0)
        print("after alice logged out:", sessions.count_children())

        # Children have no ids of their own: terminate them by Ref.
        sessions.terminate_child(carol)
        print("after terminate_child(carol):", sessions.count_children())

        try:
            sessions.start_child(noexpp.ChildSpec("x", Session))
        except noexpp.InvalidSimpleOneForOneError as exc:
            print("InvalidSimpleOneForOneError:", exc)
        sessions.stop()


if __name__ == "__main__":
    main()
