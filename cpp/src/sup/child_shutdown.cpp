#include "sup/child_shutdown.hpp"

#include <condition_variable>
#include <mutex>

#include "core/internal/executor.hpp"
#include "core/internal/log.hpp"
#include "core/internal/node_internals.hpp"

namespace noexpp::sup {
namespace {

using Clock = std::chrono::steady_clock;

// Counts exits down; monitor callbacks run on the children's threads.
struct ExitLatch {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t remaining = 0;
};

}  // namespace

std::shared_ptr<ChildExit> ChildExit::watch(Node& node, Pid child) {
  auto e = std::make_shared<ChildExit>();
  node.monitor(child, [e](Pid, const ExitReason& reason) { e->exited(reason); });
  return e;
}

void ChildExit::exited(const ExitReason& reason) {
  std::function<void(const ExitReason&)> done;
  {
    std::lock_guard lk(mu_);
    reason_ = reason;
    done = std::move(done_);
  }
  if (done) done(reason);
}

void ChildExit::when_exited(std::function<void(const ExitReason&)> done) {
  std::unique_lock lk(mu_);
  if (!reason_) {
    done_ = std::move(done);
    return;
  }
  const ExitReason reason = *reason_;
  lk.unlock();
  done(reason);
}

void shutdown_children(Node& node, Pid self, std::vector<ChildToStop>& children) {
  if (children.empty()) return;
  auto latch = std::make_shared<ExitLatch>();
  latch->remaining = children.size();
  Duration longest = Duration::zero();
  for (std::size_t i = 0; i < children.size(); ++i) {
    auto& c = children[i];
    node.unlink(self, c.pid);
    if (!c.exit) c.exit = ChildExit::watch(node, c.pid);
    // The callback writes only its own slot, before the count says so.
    c.exit->when_exited([latch, slot = &c.exited_with](const ExitReason& r) {
      std::lock_guard lk(latch->mu);
      *slot = r;
      if (--latch->remaining == 0) latch->cv.notify_all();
    });
    // One child: if idle, it handles the signal right here, on the
    // supervisor's thread, so the stop usually ends before the wait below.
    // Many (simple_one_for_one): on the engine threads, together, each
    // within its own shutdown time (OTP's simple_one_for_one_shutdown).
    const bool run_here = children.size() == 1;
    if (c.shutdown == Duration::zero())
      node.kill(c.pid, self, run_here);
    else
      node.shutdown(c.pid, ExitReason::shutdown(), self, run_here);
    longest = std::max(longest, c.shutdown);
  }
  std::unique_lock lk(latch->mu);
  if (latch->remaining == 0) return;
  lk.unlock();
  Executor::BlockingScope blocking(NodeInternals::executor(node));
  lk.lock();
  const auto start = Clock::now();
  if (longest != kInfinity && longest > Duration::zero()) {
    latch->cv.wait_until(lk, start + longest, [&] { return latch->remaining == 0; });
    if (latch->remaining > 0) {
      lk.unlock();
      for (auto& c : children)
        if (c.shutdown != kInfinity) node.kill(c.pid, self, /*run_here=*/true);  // a no-op for those already gone
      lk.lock();
    }
  }
  // A kill is unconditional (the child's exit is announced at once, while a
  // stuck handler may go on running): this wait is only a safeguard.
  while (!latch->cv.wait_for(lk, std::chrono::seconds(5), [&] { return latch->remaining == 0; }))
    log().warn("supervisor {}: {} children still running after kill (a handler has not returned)",
               self.to_string(), latch->remaining);
}

}  // namespace noexpp::sup
