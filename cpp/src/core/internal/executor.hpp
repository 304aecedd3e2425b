#pragma once
/// The engine threads of one node: an Asio io_context run by a fixed pool,
/// plus spare threads that stand in while an engine thread is blocked.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

namespace noexpp {

class Executor {
 public:
  explicit Executor(int threads);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void start();
  /// Stops the io_context and joins every thread that ends by `deadline`.
  /// One that does not (it is inside the handler of a killed process that
  /// never returns) is detached, and counted in the result: the caller must
  /// then keep whatever that thread may touch alive for good (Node::stop
  /// keeps the node). Thread: not an engine thread.
  std::size_t stop(std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

  asio::io_context& io() { return io_; }
  int threads() const { return threads_; }

  /// Runs `f` on an engine thread. With `run_next`, from inside an engine
  /// task, `f` goes to this thread's runnext slot and runs right after the
  /// current task (as in Go's scheduler), free of queueing and wake-ups: right
  /// for a process woken by a call or a reply, since the sender is about to
  /// wait. Otherwise (and when the slot is taken) `f` goes to the shared queue
  /// so an idle thread runs it in parallel. Thread: any.
  void post(std::function<void()> f, bool run_next = false);

  /// True when this thread has a task waiting in its runnext slot (then a
  /// process should not spin for messages: the sender it waits for may be it).
  static bool has_runnext();
  /// How many tasks this thread has put on the shared queue so far. A run
  /// that posted work stops spinning for more messages: the thread had better
  /// go back and run what it posted (often the next step of a chain of
  /// messages) than wait for another thread to wake up for it. Thread: engine.
  static std::uint64_t posted_count();

  /// A thread of the pool may be lost for good (a killed process's handler
  /// that never returns): a spare thread stands in for it until
  /// return_capacity. Thread: any.
  void lend_capacity();
  void return_capacity();

  /// True when the calling thread is one of this executor's threads.
  bool on_engine_thread() const;

  /// RAII: the calling engine thread is about to block (a synchronous call
  /// from a handler). While any thread is blocked a spare thread runs the
  /// io_context in its place, so a chain of synchronous calls cannot deadlock
  /// even with threads=1. No-op on non-engine threads. Thread: any.
  class BlockingScope {
   public:
    explicit BlockingScope(Executor& ex);
    ~BlockingScope();
    BlockingScope(const BlockingScope&) = delete;
    BlockingScope& operator=(const BlockingScope&) = delete;

   private:
    Executor* ex_ = nullptr;
  };

 private:
  void run_task(std::function<void()> f);
  /// Moves this thread's runnext task to the shared queue (before blocking).
  void flush_runnext();
  void run_core();
  void run_spare(std::size_t index);
  void thread_ended();
  void enter_blocking();
  void leave_blocking();

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  int threads_;
  std::vector<std::thread> core_;
  std::mutex spare_mu_;
  std::condition_variable spare_cv_;
  std::vector<std::thread> spare_;
  std::size_t blocked_ = 0;  // guarded by spare_mu_
  std::unordered_set<std::thread::id> running_;  // threads not yet ended; guarded by spare_mu_
  std::condition_variable ended_cv_;
  bool stopping_ = false;    // guarded by spare_mu_
};

}  // namespace noexpp
