#include "core/internal/pending_calls.hpp"

#include "core/internal/envelope.hpp"
#include "core/process.hpp"

namespace noexpp {
namespace {

std::int64_t tick_of(Deadline d, std::chrono::milliseconds tick) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d.time_since_epoch()).count() / tick.count();
}

}  // namespace

PendingCalls::PendingCalls(asio::io_context& io) : io_(io), sweeper_(io) {
  swept_tick_ = tick_of(std::chrono::steady_clock::now(), kTick);
}

PendingCalls::~PendingCalls() = default;

void PendingCalls::add(std::uint64_t ref, CallWaiterRef waiter, Deadline deadline, std::uint64_t route, Pid target) {
  {
    auto& s = shard(ref);
    std::lock_guard lk(s.mu);
    s.entries.emplace(ref, Entry{std::move(waiter), deadline, route, target});
  }
  if (deadline != kNoDeadline) track_deadline(ref, deadline);
}

std::optional<CallWaiterRef> PendingCalls::take(std::uint64_t ref, std::uint64_t route, bool any_route) {
  auto& s = shard(ref);
  std::lock_guard lk(s.mu);
  auto it = s.entries.find(ref);
  if (it == s.entries.end()) return std::nullopt;
  if (!any_route && it->second.route != route) return std::nullopt;
  auto waiter = std::move(it->second.waiter);
  s.entries.erase(it);
  return waiter;
}

void PendingCalls::finish(CallWaiterRef& waiter, std::uint64_t ref, CallOutcome outcome) {
  if (waiter.process) {
    // The envelope carries the value, or (failed) the outcome's detail.
    Term term = outcome.ok() ? std::move(outcome.value) : outcome.detail.empty() ? Term() : Term(std::move(outcome.detail));
    auto* e = new Envelope(Envelope::Kind::call_done, {}, ref, std::move(term));
    e->status = outcome.status;
    if (!outcome.ok()) e->reason = std::make_unique<ExitReason>(std::move(outcome.reason));
    waiter.process->deliver(e);
  } else {
    waiter.done(std::move(outcome));
  }
}

bool PendingCalls::complete(std::uint64_t ref, CallOutcome outcome) {
  auto waiter = take(ref);
  if (!waiter) return false;
  finish(*waiter, ref, std::move(outcome));
  return true;
}

bool PendingCalls::complete_on_route(std::uint64_t ref, std::uint64_t route, CallOutcome outcome) {
  auto waiter = take(ref, route, false);
  if (!waiter) return false;
  finish(*waiter, ref, std::move(outcome));
  return true;
}

void PendingCalls::fail_route(std::uint64_t route, const CallOutcome& outcome) {
  fail_where([&](const Entry& e) { return e.route == route; }, outcome);
}

void PendingCalls::fail_target(Pid target, const CallOutcome& outcome) {
  fail_where([&](const Entry& e) { return e.target == target; }, outcome);
}

template <class Pred>
void PendingCalls::fail_where(Pred pred, const CallOutcome& outcome) {
  for (auto& s : shards_) {
    std::vector<std::pair<std::uint64_t, CallWaiterRef>> failed;
    {
      std::lock_guard lk(s.mu);
      for (auto it = s.entries.begin(); it != s.entries.end();) {
        if (pred(it->second)) {
          failed.emplace_back(it->first, std::move(it->second.waiter));
          it = s.entries.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& [ref, waiter] : failed) finish(waiter, ref, outcome);
  }
}

void PendingCalls::finish_now(CallWaiterRef waiter, std::uint64_t ref, CallOutcome outcome) {
  finish(waiter, ref, std::move(outcome));
}

bool PendingCalls::cancel(std::uint64_t ref) { return take(ref).has_value(); }

bool PendingCalls::contains(std::uint64_t ref) const {
  auto& s = shard(ref);
  std::lock_guard lk(s.mu);
  return s.entries.count(ref) > 0;
}

void PendingCalls::fail_all(Errc status) {
  for (auto& s : shards_) {
    std::vector<std::uint64_t> refs;
    {
      std::lock_guard lk(s.mu);
      for (auto& [ref, e] : s.entries) refs.push_back(ref);
    }
    for (auto ref : refs) complete(ref, CallOutcome::failed(status));
  }
  std::lock_guard lk(sweep_mu_);
  sweeper_.cancel();
}

std::size_t PendingCalls::size() const {
  std::size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    n += s.entries.size();
  }
  return n;
}

void PendingCalls::track_deadline(std::uint64_t ref, Deadline deadline) {
  std::lock_guard lk(sweep_mu_);
  // A deadline in an already swept tick goes into the next one to be swept.
  auto tick = std::max(tick_of(deadline, kTick), swept_tick_ + 1);
  buckets_[static_cast<std::size_t>(tick) % kBuckets].push_back(ref);
  ++tracked_;
  if (!armed_) {
    armed_ = true;
    sweeper_.expires_at(Deadline(std::chrono::milliseconds((swept_tick_ + 1) * kTick.count())));
    sweeper_.async_wait([this](const std::error_code& ec) {
      if (!ec) sweep();
    });
  }
}

void PendingCalls::sweep() {
  const auto now = std::chrono::steady_clock::now();
  const auto now_tick = tick_of(now, kTick);
  std::vector<std::uint64_t> due;
  {
    std::lock_guard lk(sweep_mu_);
    // Sweep every tick that has passed (at most one full turn of the ring).
    for (auto t = swept_tick_ + 1; t <= now_tick && t <= swept_tick_ + std::int64_t(kBuckets); ++t) {
      auto& bucket = buckets_[static_cast<std::size_t>(t) % kBuckets];
      tracked_ -= bucket.size();
      due.insert(due.end(), bucket.begin(), bucket.end());
      bucket.clear();
    }
    swept_tick_ = now_tick;
  }
  std::vector<std::pair<std::uint64_t, Deadline>> later;  // wrapped around the ring
  for (auto ref : due) {
    std::optional<CallWaiterRef> expired;
    {
      auto& s = shard(ref);
      std::lock_guard lk(s.mu);
      auto it = s.entries.find(ref);
      if (it == s.entries.end()) continue;  // completed already
      if (it->second.deadline > now) {
        later.emplace_back(ref, it->second.deadline);
        continue;
      }
      expired = std::move(it->second.waiter);
      s.entries.erase(it);
    }
    finish(*expired, ref, CallOutcome::failed(Errc::call_timeout));
  }
  std::lock_guard lk(sweep_mu_);
  armed_ = false;
  for (auto& [ref, deadline] : later) {
    auto tick = std::max(tick_of(deadline, kTick), swept_tick_ + 1);
    buckets_[static_cast<std::size_t>(tick) % kBuckets].push_back(ref);
    ++tracked_;
  }
  if (tracked_ > 0) {
    armed_ = true;
    sweeper_.expires_at(Deadline(std::chrono::milliseconds((swept_tick_ + 1) * kTick.count())));
    sweeper_.async_wait([this](const std::error_code& ec) {
      if (!ec) sweep();
    });
  }
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

bool CallWaiter::wait_until(Deadline deadline) {
  std::unique_lock lk(mu_);
  return cv_.wait_until(lk, deadline, [&] { return outcome_.has_value(); });
}

CallOutcome CallWaiter::take() {
  std::lock_guard lk(mu_);
  return std::move(*outcome_);
}

}  // namespace noexpp
