"""decider: choose per failure what the supervisor does when a child's
handler raises: "resume" (swallow the error, keep the state), "restart"
(the usual rule), "stop" (the child stays down and is removed) or
"escalate" (the supervisor itself fails).

    python3 examples/decider.py
"""
import queue

import noexpp


class InsufficientFunds(Exception):
    pass


class AccountClosed(Exception):
    pass


class LedgerCorrupted(Exception):
    pass


class Account(noexpp.GenServer):
    def init(self):
        self.balance = 0

    def handle_call(self, request, caller):
        op, amount = request
        if op == "deposit":
            self.balance += amount
        elif op == "withdraw":
            if amount > self.balance:
                raise InsufficientFunds(f"balance {self.balance} < {amount}")
            self.balance -= amount
        elif op == "close":
            raise AccountClosed("closed by the owner")
        elif op == "audit":
            raise LedgerCorrupted("totals do not match")
        else:
            raise ValueError(f"unknown operation {op!r}")
        return self.balance


def decider(child_id, exc_type, message):
    """Runs on the crashing child's thread; returns a directive."""
    directive = {
        "InsufficientFunds": "resume",
        "AccountClosed": "stop",
        "LedgerCorrupted": "escalate",
    }.get(exc_type, "restart")
    print(f"  decider({child_id!r}, {exc_type!r}, {message!r}) -> {directive!r}")
    return directive


def main():
    with noexpp.Node("example") as node:
        events = queue.Queue()
        node.on_lifecycle_event(events.put)

        def next_event(*types):
            while True:
                event = events.get(timeout=5.0)
                if event["type"] in types:
                    return event

        sup = node.start_supervisor(
            children=[noexpp.ChildSpec("alice", Account), noexpp.ChildSpec("bob", Account)],
            decider=decider,
            name="bank",
        )
        alice, bob = (c.ref for c in sup.which_children())
        print("alice deposits 100 ->", alice.call(("deposit", 100)))

        print("resume: alice withdraws 500")
        try:
            alice.call(("withdraw", 500))
        except noexpp.ProcessCrashed as exc:   # the caller still learns of the error
            print("  the call failed:", exc.reason)
        print("  event:", next_event("child_resumed")["type"])
        print("  same process:", sup.which_children()[0].ref == alice,
              "| balance kept:", alice.call(("deposit", 0)))

        print("restart: an error the decider does not know")
        try:
            alice.call(("transfer", 1))
        except noexpp.ProcessCrashed:
            pass
        new_alice = next_event("child_restarted")["pid"]
        print("  new process:", new_alice != alice, "| balance:", new_alice.call(("deposit", 0)))

        print("stop: bob closes his account")
        try:
            bob.call(("close", 0))
        except noexpp.ProcessCrashed:
            pass
        print("  event:", next_event("child_stopped")["reason"])
        print("  children now:", [c.id for c in sup.which_children()])

        print("escalate: the ledger is corrupted")
        try:
            new_alice.call(("audit", 0))
        except noexpp.ProcessCrashed:
            pass
        stopped = next_event("supervisor_stopped")
        print("  supervisor stopped:", stopped["reason"])
        print("  error:", type(stopped["error"]).__name__)


if __name__ == "__main__":
    main()
