"""Backoff: space out the restarts of a child that keeps failing, instead of
restarting it at once. The n-th restart in a row waits
min(max, initial * factor**(n-1)) seconds, scaled by a random factor in
[1 - jitter, 1 + jitter]. The delays below are measured from the
lifecycle events' monotonic timestamps (child_stopped -> child_restarted).

    python3 examples/backoff.py
"""
import queue

import noexpp

FAILURES = 6


class Flaky(noexpp.GenServer):
    """Fails right after starting, for its first FAILURES starts."""

    starts = 0  # shared by every incarnation (they run in this interpreter)

    def init(self):
        Flaky.starts += 1
        if Flaky.starts <= FAILURES:
            self.continue_with("connect")

    def handle_continue(self, arg):
        raise ConnectionError("database unreachable")

    def handle_call(self, request, caller):
        return f"connected after {Flaky.starts} starts"


def main():
    backoff = noexpp.Backoff(initial=0.05, max=0.4, factor=2.0, jitter=0.1)
    with noexpp.Node("example") as node:
        events = queue.Queue()
        node.on_lifecycle_event(events.put)

        sup = node.start_supervisor(
            children=[noexpp.ChildSpec("db", Flaky)],
            backoff=backoff,
            max_restarts=10, within=10.0,   # room for the 6 restarts
        )
        print(f"{backoff}")
        print("attempt  nominal  measured")
        stopped_at = None
        for _ in range(FAILURES):
            while True:
                event = events.get(timeout=5.0)
                if event["type"] == "child_stopped":
                    stopped_at = event["monotonic"]
                elif event["type"] == "child_restarted":
                    break
            attempt = event["attempt"]
            nominal = min(backoff.max, backoff.initial * backoff.factor ** (attempt - 1))
            measured = event["monotonic"] - stopped_at
            print(f"{attempt:>7}  {nominal:6.3f}s  {measured:7.3f}s")

        db = sup.which_children()[0].ref
        print(db.call("status"))
        print("restart_count:", sup.which_children()[0].restart_count)
        sup.stop()


if __name__ == "__main__":
    main()
