#pragma once
/// Open calls of one node, keyed by reference: who waits for each reply.
#include <array>
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <asio/steady_timer.hpp>

#include "noexpp/core/envelope.hpp"

namespace noexpp {

using Completion = std::function<void(CallOutcome)>;

/// Whoever removes an entry owns its completion, so a reply, a timeout and a
/// target's death race safely: exactly one of them completes the call, and a
/// late reply finds nothing and is dropped.
class PendingCalls {
 public:
  /// A fresh call reference. Thread: any.
  std::uint64_t reserve_ref() { return next_ref_.fetch_add(1, std::memory_order_relaxed); }
  /// Registers the completion of call `ref`. Thread: any.
  void add(std::uint64_t ref, Completion done);
  /// Attaches a timer that fires the timeout (owned by the entry).
  void set_timer(std::uint64_t ref, std::unique_ptr<asio::steady_timer> timer);
  /// Removes the entry and returns its completion, if it is still open.
  std::optional<Completion> take(std::uint64_t ref);
  /// Completes `ref` with `outcome` if still open; false if already done.
  bool complete(std::uint64_t ref, CallOutcome outcome);
  bool contains(std::uint64_t ref) const;
  /// Fails every open call with `status` (node stop).
  void fail_all(CallOutcome::Status status);
  std::size_t size() const;

 private:
  struct Entry {
    Completion done;
    std::unique_ptr<asio::steady_timer> timer;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::uint64_t, Entry> entries;
  };
  static constexpr std::size_t kShards = 16;
  Shard& shard(std::uint64_t ref) { return shards_[ref % kShards]; }
  const Shard& shard(std::uint64_t ref) const { return shards_[ref % kShards]; }

  std::atomic<std::uint64_t> next_ref_{1};
  std::array<Shard, kShards> shards_;
};

/// A thread waiting for one call's outcome (Node::call, and the bindings,
/// which wait in slices so that Ctrl-C can interrupt). Thread: any.
class CallWaiter : public std::enable_shared_from_this<CallWaiter> {
 public:
  /// The completion to register for the call (keeps this waiter alive).
  Completion completion();
  /// Waits until the outcome is there or `deadline` passes; true if there.
  bool wait_until(std::chrono::steady_clock::time_point deadline);
  /// Takes the outcome; call only after wait_until returned true.
  CallOutcome take();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<CallOutcome> outcome_;
};

}  // namespace noexpp
