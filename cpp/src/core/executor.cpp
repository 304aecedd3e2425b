#include "core/tls.hpp"
#include "core/internal/executor.hpp"

#include <pthread.h>
#include <signal.h>

#include <chrono>

#include <asio/defer.hpp>
#include <asio/post.hpp>

namespace noexpp {
namespace {

NOEXPP_TLS Executor* tl_executor = nullptr;
// The runnext slot (as Go's scheduler has): the first task a running task
// posts runs next on this thread, with no queue round-trip and no wake-up.
NOEXPP_TLS std::function<void()> tl_runnext;
NOEXPP_TLS bool tl_in_task = false;
// Tasks this thread has put on the shared queue (see posted_count()).
NOEXPP_TLS std::uint64_t tl_posted = 0;
// Consecutive runnext hand-offs before yielding to the shared queue, so a
// ping-pong pair cannot starve other work.
constexpr int kMaxRunnextChain = 64;

}  // namespace

Executor::Executor(int threads) : guard_(asio::make_work_guard(io_)), threads_(threads) {}

Executor::~Executor() { stop(); }

void Executor::start() {
  std::lock_guard lk(spare_mu_);
  for (int i = 0; i < threads_; ++i) running_.insert(core_.emplace_back([this] { run_core(); }).get_id());
}

std::size_t Executor::stop(std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard lk(spare_mu_);
    if (stopping_) return 0;
    stopping_ = true;
  }
  spare_cv_.notify_all();
  guard_.reset();
  io_.stop();
  std::vector<std::thread> threads;
  {
    std::unique_lock lk(spare_mu_);
    ended_cv_.wait_until(lk, deadline, [&] { return running_.empty(); });
    threads = std::move(core_);
    for (auto& t : spare_) threads.push_back(std::move(t));
    spare_.clear();
  }
  std::size_t detached = 0;
  for (auto& t : threads) {
    if (!t.joinable()) continue;
    bool ended;
    {
      std::lock_guard lk(spare_mu_);
      ended = !running_.contains(t.get_id());
    }
    if (ended || deadline == std::chrono::steady_clock::time_point::max()) {
      t.join();
    } else {
      t.detach();
      ++detached;
    }
  }
  return detached;
}

void Executor::thread_ended() {
  std::lock_guard lk(spare_mu_);
  running_.erase(std::this_thread::get_id());
  ended_cv_.notify_all();
}

void Executor::post(std::function<void()> f, bool run_next) {
  if (run_next && tl_executor == this && tl_in_task && !tl_runnext) {
    tl_runnext = std::move(f);
    return;
  }
  if (tl_executor == this) ++tl_posted;
  asio::post(io_, [this, f = std::move(f)]() mutable { run_task(std::move(f)); });
}

void Executor::run_task(std::function<void()> f) {
  tl_in_task = true;
  f();
  for (int chain = 0; tl_runnext; ++chain) {
    auto next = std::move(tl_runnext);
    tl_runnext = nullptr;
    if (chain >= kMaxRunnextChain) {
      // Yield to the shared queue for fairness, but with defer: the task
      // queues behind what waits there and stays on this thread, instead of
      // waking another one and moving the ping-pong pair across CPUs.
      tl_in_task = false;
      asio::defer(io_, [this, next = std::move(next)]() mutable { run_task(std::move(next)); });
      return;
    }
    next();
  }
  tl_in_task = false;
}

void Executor::flush_runnext() {
  if (tl_executor == this && tl_runnext) {
    auto next = std::move(tl_runnext);
    tl_runnext = nullptr;
    asio::post(io_, [this, next = std::move(next)]() mutable { run_task(std::move(next)); });
  }
}

bool Executor::on_engine_thread() const { return tl_executor == this; }

bool Executor::has_runnext() { return static_cast<bool>(tl_runnext); }

std::uint64_t Executor::posted_count() { return tl_posted; }

// Engine threads take no asynchronous signals: SIGINT and friends go to the
// application's threads (Python handles them on its main thread).
void block_async_signals() {
  sigset_t set;
  sigfillset(&set);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void Executor::run_core() {
  block_async_signals();
  tl_executor = this;
  io_.run();
  tl_executor = nullptr;
  thread_ended();
}

void Executor::run_spare(std::size_t index) {
  block_async_signals();
  tl_executor = this;
  for (;;) {
    {
      std::unique_lock lk(spare_mu_);
      spare_cv_.wait(lk, [&] { return stopping_ || index < blocked_; });
      if (stopping_) break;
    }
    // Bounded, so that a spare that is no longer needed goes back to waiting.
    io_.run_one_for(std::chrono::milliseconds(50));
    if (io_.stopped()) break;
  }
  tl_executor = nullptr;
  thread_ended();
}

void Executor::enter_blocking() {
  // What this thread would have run next must not wait behind the block.
  flush_runnext();
  lend_capacity();
}

void Executor::lend_capacity() {
  std::lock_guard lk(spare_mu_);
  if (stopping_) return;
  ++blocked_;
  if (spare_.size() < blocked_) {
    running_.insert(spare_.emplace_back([this, i = spare_.size()] { run_spare(i); }).get_id());
  } else {
    spare_cv_.notify_all();
  }
}

void Executor::return_capacity() { leave_blocking(); }

void Executor::leave_blocking() {
  std::lock_guard lk(spare_mu_);
  if (blocked_ > 0) --blocked_;
}

Executor::BlockingScope::BlockingScope(Executor& ex) {
  if (ex.on_engine_thread()) {
    ex_ = &ex;
    ex.enter_blocking();
  }
}

Executor::BlockingScope::~BlockingScope() {
  if (ex_) ex_->leave_blocking();
}

}  // namespace noexpp
