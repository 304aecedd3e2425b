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

void shutdown_children(Node& node, Pid self, std::vector<ChildToStop>& children) {
  if (children.empty()) return;
  auto latch = std::make_shared<ExitLatch>();
  latch->remaining = children.size();
  Duration longest = Duration::zero();
  for (std::size_t i = 0; i < children.size(); ++i) {
    auto& c = children[i];
    node.unlink(self, c.pid);
    // The callback writes only its own slot, before the count says so.
    node.monitor(c.pid, [latch, slot = &c.exited_with](Pid, const ExitReason& r) {
      std::lock_guard lk(latch->mu);
      *slot = r;
      if (--latch->remaining == 0) latch->cv.notify_all();
    });
    // An idle child handles the signal right here, on the supervisor's
    // thread: most shutdowns then finish before the wait below begins.
    if (c.shutdown == Duration::zero())
      node.kill(c.pid, self, /*run_here=*/true);
    else
      node.shutdown(c.pid, ExitReason::shutdown(), self, /*run_here=*/true);
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
  // After kill the exit is certain, but only at the child's next handler
  // boundary: a handler that never returns cannot be preempted.
  while (!latch->cv.wait_for(lk, std::chrono::seconds(5), [&] { return latch->remaining == 0; }))
    log().warn("supervisor {}: {} children still running after kill (a handler has not returned)",
               self.to_string(), latch->remaining);
}

}  // namespace noexpp::sup
