"""Restart types: which exits bring a child back. Each cell below is a live
run: a one-child supervisor, the child exits that way, and we look at
what the supervisor did.

  permanent  always restarted
  transient  restarted only after an abnormal exit (not normal, shutdown
             or ("shutdown", term)); otherwise its spec stays, not running
  temporary  never restarted, and its spec is forgotten

    python3 examples/restart_types.py
"""
import queue

import noexpp

# column label -> how the child exits
EXITS = {
    "normal": "normal",                     # self.stop()
    "shutdown": "shutdown",                 # self.stop("shutdown")
    "(shutdown, x)": ("shutdown", "done"),  # self.stop(("shutdown", "done"))
    "crash": "crash",                       # a handler raises
    "killed": "killed",                     # ref.kill()
}


class Child(noexpp.GenServer):
    def handle_cast(self, how):
        if how == "crash":
            raise RuntimeError("boom")
        self.stop(how)                      # exit with this reason


def outcome(node, stopped, restart, how):
    sup = node.start_supervisor([noexpp.ChildSpec("child", Child, restart=restart)])
    ref = sup.which_children()[0].ref
    if how == "killed":
        ref.kill()                          # untrappable, as exit(Pid, kill)
    else:
        ref.cast(how)
    while True:                             # this supervisor's child_stopped event
        event = stopped.get(timeout=5.0)
        if event["supervisor_pid"] == sup.ref:
            break
    # The supervisor handles one message at a time: by the time this call is
    # answered, it has finished with the exit (a restart happens at once).
    children = sup.which_children()
    sup.stop()
    if not children:
        return "forgotten"
    return "restarted" if children[0].ref is not None else "not running"


def main():
    with noexpp.Node("example") as node:
        stopped = queue.Queue()

        def on_event(event):
            if event["type"] == "child_stopped":
                stopped.put(event)

        node.on_lifecycle_event(on_event)
        print(f"{'':10}" + "".join(f"{label:>15}" for label in EXITS))
        for restart in ("permanent", "transient", "temporary"):
            row = [outcome(node, stopped, restart, how) for how in EXITS.values()]
            print(f"{restart:10}" + "".join(f"{cell:>15}" for cell in row))


if __name__ == "__main__":
    main()
