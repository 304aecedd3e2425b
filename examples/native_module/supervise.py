"""Supervises the C++ behaviors of native_example beside a Python one, crashes
one, and runs one on a second node process.

    pip install --no-build-isolation examples/native_module
    python3 examples/native_module/supervise.py
"""
import time

import native_example  # noqa: F401  (registers native.counter, native.hello, native.bonjour)
import noexpp


class Recorder(noexpp.GenServer):
    """A Python child beside the C++ ones: keeps what it is told."""

    def init(self):
        self.items = []

    def handle_cast(self, item):
        self.items.append(item)

    def handle_call(self, request, caller):
        return list(self.items)


def main():
    langs = noexpp.behaviors()
    print("registered:", ", ".join(f"{n} ({langs[n]})" for n in sorted(langs) if n.startswith("native.")))
    with noexpp.Node("alpha") as node:
        sup = node.start_supervisor([
            noexpp.ChildSpec("counter", "native.counter"),
            noexpp.ChildSpec("hello", "native.hello"),
            noexpp.ChildSpec("recorder", Recorder),
        ], strategy="one_for_one")
        kids = {c.id: c.ref for c in sup.which_children()}
        for _ in range(3):
            kids["counter"].cast("inc")
        print("counter after three casts:", kids["counter"].call("get"))
        greeting = kids["hello"].call("world")
        kids["recorder"].cast(greeting)
        print("hello says:", greeting, "| recorder kept:", kids["recorder"].call("get"))
        try:
            kids["counter"].call("crash")
        except noexpp.ProcessCrashed as exc:
            print("counter crashed:", exc.reason)
        while sup.which_children()[0].restart_count == 0 or sup.which_children()[0].ref is None:
            time.sleep(0.01)
        again = sup.which_children()[0]
        print(f"counter restarted (restart_count={again.restart_count}), count {again.ref.call('get')}")
        sup.stop()

    with noexpp.LocalCluster(1, mode="processes", modules=["native_example"]) as cluster:
        other = cluster.ids[0]
        ref = cluster.controller.spawn_remote(other, "native.bonjour")
        print("on a node process:", ref.call("le monde"))


if __name__ == "__main__":
    main()
