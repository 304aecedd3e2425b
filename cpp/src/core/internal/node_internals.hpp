#pragma once
/// The node's engine-internal surface for the layers above the core (sup,
/// cluster, dist) and the bindings: what they need beyond Node's public API.
/// Users of the C++ API never see it (it is not installed).
#include <cstdint>

#include "core/internal/envelope.hpp"
#include "core/internal/executor.hpp"
#include "core/internal/pending_calls.hpp"
#include "noexpp/node.hpp"

namespace noexpp {

class Router;

class NodeInternals {
 public:
  static Executor& executor(Node& n);
  static PendingCalls& calls(Node& n);
  /// Installs the router of the pids that are not local. Thread: before start.
  static void set_router(Node& n, Router* router);

  /// Delivers `e` (owned from now on) to local process `to`: what a frame
  /// from another node carries. False if `to` is not a live local process.
  /// Thread: any.
  static bool deliver_local(Node& n, Pid to, Envelope* e);
  /// As deliver_local, for a cast or send that came over route `route` (a
  /// connection): counted against `limit` messages from other nodes in the
  /// target's mailbox, past which the router is told to hold the route's
  /// senders back (Router::tell_backpressure). Thread: any.
  static bool deliver_from_peer(Node& n, Pid to, Envelope* e, std::uint64_t route, std::int64_t limit);
  /// A call from `caller` on another node to local process `to`; `done`
  /// answers it (reply, crash, exit or node stop). Thread: any.
  static void call_local(Node& n, Pid to, Pid caller, Term request, Node::Completion done);
  /// A process on another node links to local `local`; false if it is gone.
  static bool add_remote_link(Node& n, Pid local, Pid remote);
  static void remove_link(Node& n, Pid local, Pid other);
  /// Incarnation (node_index, creation) became unreachable: every local link
  /// to its processes breaks with noconnection. Thread: any.
  static void break_links_to(Node& n, std::uint32_t node_index, std::uint32_t creation);

  /// As Node::call_async, for a caller that will block until the outcome
  /// (the bindings' Ref.call): an idle target runs its batch on this thread
  /// ("caller runs"). Only off engine threads. Thread: any.
  static std::uint64_t call_from_waiting_thread(Node& n, Pid to, Term request, Duration timeout,
                                                Node::Completion done);
  /// Abandons an open call (its caller gave up); false if it already completed.
  static bool cancel_call(Node& n, std::uint64_t ref);
};

}  // namespace noexpp
