#include "core/timers.hpp"

namespace noexpp {

void Timers::start(std::uint64_t id, Pid to, Duration delay, Term message) {
  auto timer = std::make_unique<asio::steady_timer>(io_, delay);
  auto* t = timer.get();
  // Registered before the wait starts: a zero delay may fire at once, and
  // the handler tells "cancelled" from "fired" by the registration.
  std::lock_guard lk(mu_);
  timers_.emplace(id, std::move(timer));
  t->async_wait([this, id, to, message = std::move(message)](const std::error_code& ec) mutable {
    if (ec) return;
    {
      std::lock_guard lk(mu_);
      if (timers_.erase(id) == 0) return;  // cancelled just now
    }
    fire_(id, to, std::move(message));
  });
}

bool Timers::cancel(std::uint64_t id) {
  std::unique_ptr<asio::steady_timer> timer;
  {
    std::lock_guard lk(mu_);
    auto it = timers_.find(id);
    if (it == timers_.end()) return false;
    timer = std::move(it->second);
    timers_.erase(it);
  }
  timer->cancel();
  return true;
}

void Timers::cancel_all() {
  std::lock_guard lk(mu_);
  for (auto& [id, t] : timers_) t->cancel();
}

void Timers::clear() {
  std::lock_guard lk(mu_);
  timers_.clear();
}

}  // namespace noexpp
