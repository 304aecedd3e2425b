#pragma once
// What a Node is made of (the public Node holds it behind a pointer, so its
// header needs neither Asio nor the engine's private types). Private to core.
#include <atomic>
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/internal/envelope.hpp"
#include "core/internal/executor.hpp"
#include "core/internal/pending_calls.hpp"
#include "core/process_table.hpp"
#include "core/registry.hpp"
#include "core/timers.hpp"
#include "noexpp/events.hpp"
#include "noexpp/node.hpp"

namespace noexpp {

class Router;

struct Node::State {
  explicit State(NodeOptions o);

  NodeOptions options;
  std::string id;
  std::uint32_t name_index;
  std::uint32_t creation;
  std::atomic<bool> running{false};
  std::atomic<bool> stopped{false};
  std::atomic<bool> aborted{false};
  std::atomic<std::uint64_t> next_serial{1};
  std::atomic<std::uint64_t> next_ref{1};  // monitors and timers
  Executor executor;
  PendingCalls calls;
  Registry registry;
  EventBus events;
  ProcessTable table;
  Timers timers;
  /// Routes the pids that are not local; set before start, never changed after.
  Router* router = nullptr;
  std::vector<std::shared_ptr<NodeModule>> modules;  // in attach order
  /// Process exits under way (Process::exit has begun, not finished): stop()
  /// waits for them too, so what they do last (monitor callbacks, events)
  /// happens before the engine threads stop.
  std::atomic<int> exiting{0};

  /// Where a pid lives, as the one test every route goes through: this
  /// incarnation of this node; another node, through the router; or
  /// nowhere (nil, an older incarnation of this node, or a remote pid on a
  /// node without a router).
  enum class Place : std::uint8_t { local, remote, nowhere };
  Place place_of(Pid p) const;

  /// Routes an envelope (owned from now on) by its target's place; false if
  /// it cannot be handled (the target is gone or unreachable). With
  /// `run_here` an idle local target runs it on this thread.
  bool route(Pid to, Envelope* e, bool run_here = false, bool only_if_fatal = false);
  /// Pushes `e` into local process `to`'s mailbox under the table shard's
  /// lock: the process cannot leave the table meanwhile, so no reference
  /// count is taken per message.
  bool deliver_local(Pid to, Envelope* e, bool run_here = false, bool only_if_fatal = false);
  /// Starts call `ref`; every outcome, an immediate failure too, reaches
  /// `waiter` through the same path. `run_here`: an idle local target runs
  /// its batch on this thread (the caller is about to block).
  void start_call(Node& node, std::uint64_t ref, Pid to, Term request, Duration timeout, CallWaiterRef waiter,
                  bool run_here);
  /// Sends a shutdown stop to the processes `which` selects and waits until
  /// they have exited or `deadline` passed.
  void stop_processes(Node& node, const std::function<bool(const Process&)>& which,
                      std::chrono::steady_clock::time_point deadline);
};

inline Node::State::Place Node::State::place_of(Pid p) const {
  if (p.node == name_index && p.creation == creation) return Place::local;
  if (p.is_nil() || p.node == name_index || !router) return Place::nowhere;
  return Place::remote;
}


}  // namespace noexpp
