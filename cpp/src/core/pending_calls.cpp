#include "noexpp/core/pending_calls.hpp"

namespace noexpp {

void PendingCalls::add(std::uint64_t ref, Completion done) {
  auto& s = shard(ref);
  std::lock_guard lk(s.mu);
  s.entries.emplace(ref, Entry{std::move(done), nullptr});
}

void PendingCalls::set_timer(std::uint64_t ref, std::unique_ptr<asio::steady_timer> timer) {
  auto& s = shard(ref);
  std::lock_guard lk(s.mu);
  if (auto it = s.entries.find(ref); it != s.entries.end()) it->second.timer = std::move(timer);
}

std::optional<Completion> PendingCalls::take(std::uint64_t ref) {
  std::unique_ptr<asio::steady_timer> timer;
  Completion done;
  {
    auto& s = shard(ref);
    std::lock_guard lk(s.mu);
    auto it = s.entries.find(ref);
    if (it == s.entries.end()) return std::nullopt;
    done = std::move(it->second.done);
    timer = std::move(it->second.timer);
    s.entries.erase(it);
  }
  if (timer) timer->cancel();  // its handler then finds no entry and does nothing
  return done;
}

bool PendingCalls::complete(std::uint64_t ref, CallOutcome outcome) {
  auto done = take(ref);
  if (!done) return false;
  (*done)(std::move(outcome));
  return true;
}

void PendingCalls::fail_all(CallOutcome::Status status) {
  for (auto& s : shards_) {
    std::vector<std::uint64_t> refs;
    {
      std::lock_guard lk(s.mu);
      for (auto& [ref, e] : s.entries) refs.push_back(ref);
    }
    for (auto ref : refs) complete(ref, CallOutcome::failed(status));
  }
}

bool PendingCalls::contains(std::uint64_t ref) const {
  auto& s = shard(ref);
  std::lock_guard lk(s.mu);
  return s.entries.count(ref) > 0;
}

std::size_t PendingCalls::size() const {
  std::size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    n += s.entries.size();
  }
  return n;
}

Completion CallWaiter::completion() {
  return [self = shared_from_this()](CallOutcome o) {
    {
      std::lock_guard lk(self->mu_);
      self->outcome_ = std::move(o);
    }
    self->cv_.notify_all();
  };
}

bool CallWaiter::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lk(mu_);
  return cv_.wait_until(lk, deadline, [&] { return outcome_.has_value(); });
}

CallOutcome CallWaiter::take() {
  std::lock_guard lk(mu_);
  return std::move(*outcome_);
}

}  // namespace noexpp
