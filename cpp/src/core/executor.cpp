#include "noexpp/core/executor.hpp"

#include <chrono>

#include <asio/defer.hpp>
#include <asio/post.hpp>

namespace noexpp {
namespace {

thread_local Executor* tl_executor = nullptr;
thread_local bool tl_runnext_used = false;

}  // namespace

Executor::Executor(int threads) : guard_(asio::make_work_guard(io_)), threads_(threads) {}

Executor::~Executor() { stop(); }

void Executor::start() {
  for (int i = 0; i < threads_; ++i) core_.emplace_back([this] { run_core(); });
}

void Executor::stop() {
  {
    std::lock_guard lk(spare_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  spare_cv_.notify_all();
  guard_.reset();
  io_.stop();
  for (auto& t : core_)
    if (t.joinable()) t.join();
  std::vector<std::thread> spare;
  {
    std::lock_guard lk(spare_mu_);
    spare.swap(spare_);
  }
  for (auto& t : spare)
    if (t.joinable()) t.join();
}

void Executor::post(std::function<void()> f) {
  if (tl_executor == this && !tl_runnext_used) {
    tl_runnext_used = true;
    asio::defer(io_, std::move(f));  // stays on this thread, no wake-up
  } else {
    asio::post(io_, std::move(f));
  }
}

bool Executor::on_engine_thread() const { return tl_executor == this; }

void Executor::begin_batch() { tl_runnext_used = false; }

void Executor::run_core() {
  tl_executor = this;
  io_.run();
  tl_executor = nullptr;
}

void Executor::run_spare(std::size_t index) {
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
}

void Executor::enter_blocking() {
  std::lock_guard lk(spare_mu_);
  if (stopping_) return;
  ++blocked_;
  if (spare_.size() < blocked_) {
    spare_.emplace_back([this, i = spare_.size()] { run_spare(i); });
  } else {
    spare_cv_.notify_all();
  }
}

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
