#include "noexpp/events.hpp"

#include <chrono>

#include "core/internal/log.hpp"

namespace noexpp {
namespace {

template <class Clock>
double seconds_now() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

}  // namespace

Term LifecycleEvent::to_term() const {
  Map m = fields.is_map() ? fields.as_map() : Map{};
  m.items.emplace_back(Term("type"), Term(type));
  m.items.emplace_back(Term("timestamp"), Term(timestamp));
  m.items.emplace_back(Term("monotonic"), Term(monotonic));
  return Term(std::move(m));
}

std::uint64_t EventBus::subscribe(Subscriber s) {
  std::lock_guard lk(mu_);
  auto id = next_id_++;
  subscribers_.push_back({id, next_event_, std::make_shared<Subscriber>(std::move(s))});
  count_.store(subscribers_.size(), std::memory_order_relaxed);
  return id;
}

void EventBus::unsubscribe(std::uint64_t id) {
  std::lock_guard lk(mu_);
  std::erase_if(subscribers_, [&](const Subscription& s) { return s.id == id; });
  count_.store(subscribers_.size(), std::memory_order_relaxed);
}

void EventBus::emit(std::string type, Term fields) {
  std::lock_guard lk(mu_);
  if (subscribers_.empty()) return;
  queue_.emplace_back(next_event_++, LifecycleEvent{std::move(type), seconds_now<std::chrono::system_clock>(),
                                                   seconds_now<std::chrono::steady_clock>(), std::move(fields)});
  if (draining_) return;
  draining_ = true;
  post_([this] { drain(); });
}

void EventBus::flush(std::chrono::steady_clock::duration timeout) {
  std::unique_lock lk(mu_);
  drained_.wait_for(lk, timeout, [&] { return !draining_; });
}

void EventBus::drain() {
  // One drain at a time (draining_), so subscribers see the emit order.
  for (;;) {
    LifecycleEvent e;
    std::vector<std::shared_ptr<Subscriber>> subs;
    {
      std::lock_guard lk(mu_);
      if (queue_.empty()) {
        draining_ = false;
        drained_.notify_all();
        return;
      }
      const auto seq = queue_.front().first;
      e = std::move(queue_.front().second);
      queue_.pop_front();
      for (auto& s : subscribers_)
        if (s.first_event <= seq) subs.push_back(s.fn);
    }
    for (auto& s : subs) {
      try {
        (*s)(e);
      } catch (const std::exception& ex) {
        log().error("lifecycle event subscriber raised on {}: {}", e.type, ex.what());
      }
    }
  }
}

}  // namespace noexpp
