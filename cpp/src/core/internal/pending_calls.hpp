#pragma once
/// Open calls of one node, keyed by reference: who waits for each reply.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "noexpp/call.hpp"
#include "noexpp/pid.hpp"

namespace noexpp {

class Process;
using Completion = std::function<void(CallOutcome)>;
using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline kNoDeadline = Deadline::max();

/// Who waits for a call: a process (the outcome arrives in its mailbox as a
/// call_done envelope, so it continues like a handler) or a completion
/// function (threads outside the engine, asyncio futures).
struct CallWaiterRef {
  std::shared_ptr<Process> process;
  Completion done;
};

/// Whoever removes an entry owns its completion, so a reply, a timeout and a
/// target's death race safely: exactly one of them completes the call, and a
/// late reply finds nothing and is dropped.
///
/// A call to another node is bound to the route it went out on (a nonzero
/// id the router chooses, one per connection): only that route's reply
/// completes it, and the route's loss fails it (fail_route). That is all
/// the bookkeeping a remote call has: one entry, here.
///
/// Deadlines are not one timer per call (a timer per call costs a syscall and
/// a heap operation on the reactor's lock): each call's ref goes into a ring
/// of 10 ms buckets, and one sweeper timer, armed only while calls with
/// deadlines are open, fails the expired ones. A timeout fires up to one
/// tick late; completed calls are skipped lazily when their bucket is swept.
class PendingCalls {
 public:
  explicit PendingCalls(asio::io_context& io);
  ~PendingCalls();

  /// A fresh call reference. Thread: any.
  std::uint64_t reserve_ref() { return next_ref_.fetch_add(1, std::memory_order_relaxed); }
  /// Registers call `ref`, failing it with call_timeout at `deadline`, bound
  /// to `route` (0: a local call), to local process `target` (nil: none
  /// that fail_target should find). Thread: any.
  void add(std::uint64_t ref, CallWaiterRef waiter, Deadline deadline = kNoDeadline, std::uint64_t route = 0,
           Pid target = {});
  /// Completes `ref` with `outcome` if still open; false if already done.
  bool complete(std::uint64_t ref, CallOutcome outcome);
  /// As complete, only if `ref` is bound to `route` (a reply from a peer).
  bool complete_on_route(std::uint64_t ref, std::uint64_t route, CallOutcome outcome);
  /// Fails every open call bound to `route` with `outcome` (the route is
  /// gone). Thread: any.
  void fail_route(std::uint64_t route, const CallOutcome& outcome);
  /// Fails every open call to local process `target` (it was killed while
  /// busy: its queue will not be served soon). Thread: any.
  void fail_target(Pid target, const CallOutcome& outcome);
  /// Hands `outcome` to `waiter` at once: a call that failed before it was
  /// registered (the same delivery a registered call gets).
  static void finish_now(CallWaiterRef waiter, std::uint64_t ref, CallOutcome outcome);
  /// Removes `ref` without completing it (its caller gave up). False if done.
  bool cancel(std::uint64_t ref);
  bool contains(std::uint64_t ref) const;
  /// Fails every open call with `status` (node stop).
  void fail_all(Errc status);
  std::size_t size() const;

 private:
  struct Entry {
    CallWaiterRef waiter;
    Deadline deadline;
    std::uint64_t route;
    Pid target;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::uint64_t, Entry> entries;
  };
  static constexpr std::size_t kShards = 16;
  static constexpr auto kTick = std::chrono::milliseconds(10);
  static constexpr std::size_t kBuckets = 512;  // ~5 s of ticks; later deadlines wrap around

  Shard& shard(std::uint64_t ref) { return shards_[ref % kShards]; }
  const Shard& shard(std::uint64_t ref) const { return shards_[ref % kShards]; }
  /// Removes `ref` if open (and bound to `route`, unless `any_route`).
  std::optional<CallWaiterRef> take(std::uint64_t ref, std::uint64_t route = 0, bool any_route = true);
  /// Fails every open call `pred(entry)` selects.
  template <class Pred>
  void fail_where(Pred pred, const CallOutcome& outcome);
  static void finish(CallWaiterRef& waiter, std::uint64_t ref, CallOutcome outcome);
  void track_deadline(std::uint64_t ref, Deadline deadline);
  void sweep();

  std::atomic<std::uint64_t> next_ref_{1};
  std::array<Shard, kShards> shards_;

  asio::io_context& io_;
  std::mutex sweep_mu_;  // guards everything below
  asio::steady_timer sweeper_;
  bool armed_ = false;
  std::size_t tracked_ = 0;
  std::int64_t swept_tick_ = 0;  // every bucket up to this tick has been swept
  std::array<std::vector<std::uint64_t>, kBuckets> buckets_;
};

/// A thread waiting for one call's outcome (Node::call, and the bindings,
/// which wait in slices so that Ctrl-C can interrupt). Thread: any.
class CallWaiter : public std::enable_shared_from_this<CallWaiter> {
 public:
  /// The completion to register for the call (keeps this waiter alive).
  Completion completion();
  /// Waits until the outcome is there or `deadline` passes; true if there.
  bool wait_until(Deadline deadline);
  /// Takes the outcome; call only after wait_until returned true.
  CallOutcome take();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<CallOutcome> outcome_;
};

}  // namespace noexpp
