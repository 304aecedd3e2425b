#pragma once
// The node's processes by serial: sharded, so that delivering to different
// processes rarely contends on one lock.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace noexpp {

class Process;

class ProcessTable {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  /// Thread: any.
  void insert(std::shared_ptr<Process> p, std::uint64_t serial);
  std::shared_ptr<Process> find(std::uint64_t serial) const;
  /// Drops the entry and hands back the table's reference (null if absent);
  /// wakes wait_until.
  std::shared_ptr<Process> remove(std::uint64_t serial);
  /// Runs `f(Process&)` under the shard's lock if `serial` is present: the
  /// process cannot leave the table meanwhile, so no reference count is
  /// taken (the message hot path). `f` must not take another shard's lock.
  template <class F>
  bool with(std::uint64_t serial, F&& f) const {
    auto& s = shard(serial);
    std::lock_guard lk(s.mu);
    auto it = s.procs.find(serial);
    if (it == s.procs.end()) return false;
    f(*it->second);
    return true;
  }
  std::size_t size() const;
  /// Every process, taken under each shard's lock in turn (the caller then
  /// looks at them without any lock held).
  std::vector<std::shared_ptr<Process>> snapshot() const;
  void clear();

  /// Waits until `done()` holds or `deadline` passes; woken by every remove
  /// and by notify(). `done` runs with no table lock held. Thread: not an
  /// engine thread (it blocks).
  template <class Pred>
  void wait_until(TimePoint deadline, Pred done) {
    std::unique_lock lk(wait_mu_);
    waiters_.fetch_add(1);
    changed_.wait_until(lk, deadline, done);
    waiters_.fetch_sub(1);
  }
  /// Wakes wait_until (something it may be waiting for changed). Thread: any.
  void notify();

 private:
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::uint64_t, std::shared_ptr<Process>> procs;
  };
  static constexpr std::size_t kShards = 16;
  Shard& shard(std::uint64_t serial) const { return const_cast<Shard&>(shards_[serial % kShards]); }

  std::array<Shard, kShards> shards_;
  std::mutex wait_mu_;
  std::condition_variable changed_;
  std::atomic<int> waiters_{0};
};

}  // namespace noexpp
