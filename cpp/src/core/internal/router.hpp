#pragma once
/// What a node does with the pids that are not its own (DESIGN §2): the
/// core calls this interface, the cluster implements it and installs it
/// from above (NodeInternals::set_router). A node without a router is local
/// only; other nodes' pids are then unreachable (no_connection).
#include <cstdint>

#include "core/internal/envelope.hpp"
#include "core/internal/pending_calls.hpp"
#include "noexpp/error.hpp"
#include "noexpp/node.hpp"
#include "noexpp/pid.hpp"
#include "noexpp/term.hpp"

namespace noexpp {

/// Every member may be called from any thread, on pids of other nodes only
/// (never nil, never this node's, never an older incarnation of this node).
class Router {
 public:
  virtual ~Router() = default;
  /// Sends a signal (info, cast, exit_signal, stop or down) to a process of
  /// another node. ok(false) when the target is known to be gone (its node
  /// restarted since); Errc::no_connection when its node is not connected;
  /// Errc::message_too_large past the route's frame maximum.
  virtual Result<bool> send(Pid to, const Envelope& e) = 0;
  /// Starts call `ref` to `to`: the router registers it in the node's
  /// PendingCalls bound to its route (so only that route's reply completes
  /// it, and the route's loss fails it), or completes `waiter` at once when
  /// it cannot send (no_connection, no_process, message_too_large).
  virtual void call(Pid to, Pid from, std::uint64_t ref, Term request, CallWaiterRef waiter,
                    Deadline deadline) = 0;
  /// A monitor by `watcher` (a local process) or by `cb` (when watcher is
  /// nil) on remote `target`; fires at once (noconnection / noproc) when it
  /// cannot be set up, and with noconnection when the route goes.
  virtual void monitor(std::uint64_t ref, Pid watcher, Pid target, Node::MonitorCallback cb) = 0;
  virtual void demonitor(Pid target, std::uint64_t ref) = 0;
  /// Local process `local` holds a link to remote `remote` already: the
  /// router tells the remote side, or breaks the link at once (an exit
  /// signal noconnection / noproc to `local`).
  virtual void link(Pid local, Pid remote) = 0;
  virtual void unlink(Pid local, Pid remote) = 0;
  /// Local process `local` holds too many messages from route `route` (a
  /// connection, see NodeInternals::deliver_from_peer) when `full`, or has
  /// room again: the router tells that peer, whose senders then wait.
  /// Called under the process's links lock: must not call back into it.
  virtual void tell_backpressure(Pid local, std::uint64_t route, bool full) = 0;
};

}  // namespace noexpp
