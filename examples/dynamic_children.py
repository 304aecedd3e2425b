"""Dynamic children: add, stop, restart and remove children of a running
supervisor, and the errors each operation raises.

    python3 examples/dynamic_children.py
"""
import noexpp


class Worker(noexpp.GenServer):
    def init(self, label="worker"):
        self.label = label

    def handle_call(self, request, caller):
        return self.label


class Broken(noexpp.GenServer):
    def init(self):
        raise OSError("config file missing")


def attempt(what, action):
    try:
        result = action()
        print(f"{what}: ok{'' if result is None else ' -> ' + repr(result)}")
    except noexpp.NoexppError as exc:
        print(f"{what}: {type(exc).__name__}: {exc}")
    except ValueError as exc:
        print(f"{what}: ValueError: {exc}")


def main():
    with noexpp.Node("example") as node:
        sup = node.start_supervisor(children=[noexpp.ChildSpec("a", Worker, args=("A",))])

        extra = sup.start_child(noexpp.ChildSpec("b", Worker, args=("B",)))  # started at once
        print("start_child b ->", extra.call("who"))
        print("children:", [c.id for c in sup.which_children()])

        attempt("start_child a again", lambda: sup.start_child(noexpp.ChildSpec("a", Worker)))
        attempt("start_child broken", lambda: sup.start_child(noexpp.ChildSpec("c", Broken)))
        attempt("start_child unknown behavior",
                lambda: sup.start_child(noexpp.ChildSpec("d", "no.such.behavior")))
        attempt("restart_child b (running)", lambda: sup.restart_child("b"))
        attempt("delete_child b (running)", lambda: sup.delete_child("b"))

        attempt("terminate_child b", lambda: sup.terminate_child("b"))   # spec kept
        print("after terminate:", [(c.id, c.ref is not None) for c in sup.which_children()])
        attempt("restart_child b", lambda: sup.restart_child("b").call("who"))
        attempt("terminate_child b", lambda: sup.terminate_child("b"))
        attempt("delete_child b", lambda: sup.delete_child("b"))
        attempt("delete_child b again", lambda: sup.delete_child("b"))
        attempt("terminate_child zz", lambda: sup.terminate_child("zz"))

        # A temporary child's spec goes when it stops.
        sup.start_child(noexpp.ChildSpec("tmp", Worker, restart="temporary"))
        sup.terminate_child("tmp")
        print("after terminating temporary tmp:", [c.id for c in sup.which_children()])
        print("count_children:", sup.count_children())

        sup.stop()
        attempt("start_child after stop", lambda: sup.start_child(noexpp.ChildSpec("e", Worker)))


if __name__ == "__main__":
    main()
