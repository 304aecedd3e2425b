"""Two nodes in one cluster: a process started on the other node, used
through its Ref exactly like a local one.

alpha and beta run in this interpreter but talk over TCP on 127.0.0.1,
authenticated by their shared cookie. beta joins alpha (seeds + connect),
starts a registered behavior there with spawn_remote, calls and casts it,
hands it a Ref to one of its own processes inside a message, monitors it,
and finally sees alpha leave.

    python3 examples/cluster_basics.py
"""
import queue

import noexpp

# What the Watcher (a process on beta) receives, handed to the main thread.
# Events and monitors fire on engine threads; queues carry them here.
notifications = queue.Queue()


@noexpp.behavior("example.counter")   # spawn_remote names behaviors, never classes
class Counter(noexpp.GenServer):
    """call "get" -> the count; cast "inc"; call ("watch", ref): from then on
    every increment is sent to ref, wherever that process runs."""

    def init(self, start=0):
        self.value = start
        self.watchers = []

    def handle_call(self, request, caller):
        if request == "get":
            return self.value
        if request[0] == "watch":
            self.watchers.append(request[1])   # a Ref that arrived in a message
            return f"watching from node {self.ref.node_id.split('@')[0]}"
        raise ValueError(f"unknown request {request!r}")

    def handle_cast(self, request):
        self.value += 1
        for watcher in self.watchers:
            watcher.send(("count", self.value))  # alpha -> beta, through the Ref


class Watcher(noexpp.GenServer):
    def handle_info(self, message):
        notifications.put(message)


def short(node_id):
    return node_id.split("@")[0]


def main():
    cookie = "example-cookie"   # every member of a cluster shares it
    with noexpp.Node("alpha", cookie=cookie) as alpha:
        alpha_events = queue.Queue()
        alpha.on("node_up", alpha_events.put)

        with noexpp.Node("beta", cookie=cookie, seeds=[alpha.id]) as beta:
            beta.connect(alpha.id)            # returns once connected (the seed may win the race)
            up = alpha_events.get(timeout=5.0)
            print(f"alpha saw node_up: {short(up['node'])}")

            # A process on alpha, started from beta by its registered name.
            counter = beta.spawn_remote(alpha.id, "example.counter", 5)
            print(f"spawned {counter!r} on {short(counter.node_id)}")
            counter.cast("inc")                  # beta -> alpha
            print(f"remote call after one cast: get -> {counter.call('get')}")

            # A Ref inside a message: the counter on alpha keeps beta's
            # watcher and sends to it on each increment.
            watcher = beta.spawn(Watcher)
            print(counter.call(("watch", watcher)))
            counter.cast("inc")
            print(f"beta's watcher got from alpha: {notifications.get(timeout=5.0)}")

            print("beta.nodes():")
            for info in beta.nodes():
                rtt = "-" if info.rtt is None else f"{info.rtt * 1000:.2f} ms"
                print(f"  {info.id:26} {info.status:5} rtt={rtt}")

            # A monitor on the remote process gets its exit reason.
            downs = queue.Queue()
            beta.monitor(counter, lambda ref, reason: downs.put((ref, reason)))
            counter.stop("maintenance")
            ref, reason = downs.get(timeout=5.0)
            print(f"monitor: {short(ref.node_id)} process exited with reason {reason}")
            try:
                counter.call("get")
            except noexpp.NoProcess as exc:
                print(f"calling it now: NoProcess ({exc.reason})")

            # alpha leaves on purpose: it says goodbye, beta knows at once.
            beta_downs = queue.Queue()
            beta.on("node_down", beta_downs.put)
            alpha.stop()
            down = beta_downs.get(timeout=5.0)
            print(f"beta saw node_down: {short(down['node'])} reason={down['reason']}")
            print(f"beta.nodes() now: {[(short(i.id), i.status) for i in beta.nodes()]}")


if __name__ == "__main__":
    main()
