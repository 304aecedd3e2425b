#include "sup/restart_plan.hpp"

#include <algorithm>

namespace noexpp::sup::plan {
namespace {

const Child* find(const std::vector<Child>& children, std::uint64_t key) {
  auto it = std::find_if(children.begin(), children.end(), [&](const Child& c) { return c.key == key; });
  return it == children.end() ? nullptr : &*it;
}

/// The first half of a group restart of `key`, as OTP's
/// restart_multiple_children does it: every running member but `key` stops
/// (newest first) and temporary members are dropped (OTP never brings them
/// back). Returns the members to bring back, in start order.
std::vector<std::uint64_t> take_down(const Supervisor& sup, std::uint64_t key, Plan& p) {
  const auto group = restart_group(sup.strategy, sup.children, key);
  for (auto it = group.rbegin(); it != group.rend(); ++it)
    if (*it != key && find(sup.children, *it)->state == ChildState::running) p.stop.push_back(*it);
  std::vector<std::uint64_t> back;
  for (auto k : group) {
    const Child* c = find(sup.children, k);
    if (k != key && c->state == ChildState::restarting) p.absorbed.push_back(k);
    if (k != key && c->restart == RestartType::temporary)
      p.forget.push_back(k);
    else
      back.push_back(k);
  }
  return back;
}

}  // namespace

bool should_restart(RestartType type, const ExitReason& reason) {
  switch (type) {
    case RestartType::permanent: return true;
    case RestartType::transient: return reason.is_abnormal();
    case RestartType::temporary: return false;
  }
  return false;
}

bool count_restart(std::deque<TimePoint>& restarts, int max_restarts, Duration within, TimePoint now) {
  restarts.push_back(now);
  // OTP keeps restarts within the period, bounds included.
  while (!restarts.empty() && now - restarts.front() > within) restarts.pop_front();
  return static_cast<int>(restarts.size()) <= max_restarts;
}

int recent_restarts(std::deque<TimePoint> restarts, Duration within, TimePoint now) {
  while (!restarts.empty() && now - restarts.front() > within) restarts.pop_front();
  return static_cast<int>(restarts.size());
}

std::vector<std::uint64_t> restart_group(Strategy strategy, const std::vector<Child>& children, std::uint64_t key) {
  std::vector<std::uint64_t> group;
  switch (strategy) {
    case Strategy::one_for_one:
    case Strategy::simple_one_for_one: group.push_back(key); break;
    case Strategy::one_for_all:
      for (auto& c : children) group.push_back(c.key);
      break;
    case Strategy::rest_for_one: {
      bool from_here = false;
      for (auto& c : children) {
        from_here = from_here || c.key == key;
        if (from_here) group.push_back(c.key);
      }
      break;
    }
  }
  return group;
}

bool auto_shutdown_due(AutoShutdown mode, const std::vector<Child>& children, std::uint64_t exited) {
  switch (mode) {
    case AutoShutdown::never: return false;
    case AutoShutdown::any_significant: return true;
    case AutoShutdown::all_significant:
      return std::none_of(children.begin(), children.end(), [&](const Child& c) {
        return c.key != exited && c.significant && c.state != ChildState::stopped;
      });
  }
  return false;
}

Plan on_exit(const Supervisor& sup, const ChildExited& e, TimePoint now, double unit_random) {
  Plan p;
  p.restarts = sup.restarts;
  const Child* child = find(sup.children, e.key);
  if (!child) return p;
  if (e.directive == Directive::escalate) {
    p.end = Plan::End::escalated;
    return p;
  }
  if (e.directive == Directive::stop || !should_restart(child->restart, e.reason)) {
    // OTP forgets temporary children once they exit, and simple_one_for_one ones.
    if (e.directive == Directive::stop || child->restart == RestartType::temporary ||
        sup.strategy == Strategy::simple_one_for_one)
      p.forget.push_back(e.key);
    if (child->significant && auto_shutdown_due(sup.auto_shutdown, sup.children, e.key))
      p.end = Plan::End::auto_shutdown;
    return p;
  }
  if (e.node_lost) {
    // Not the child's fault: no count, no backoff. The group goes down now
    // and comes back, elsewhere, once the lost copy has certainly stopped.
    take_down(sup, e.key, p);
    p.restart_later = e.key;
    p.delay = *e.node_lost;
    p.delay_counted = true;  // its RestartDue must not count it either
    return p;
  }
  if (!count_restart(p.restarts, sup.max_restarts, sup.within, now)) {
    p.end = Plan::End::intensity_exceeded;
    return p;
  }
  p.counted = true;
  // A child that had been up for the healthy period starts backoff over.
  const auto group = restart_group(sup.strategy, sup.children, e.key);
  int attempt = 1;
  for (auto k : group) {
    const Child* c = find(sup.children, k);
    const int a = (now - c->started >= sup.backoff.reset_period() ? 0 : c->attempt) + 1;
    p.attempts.emplace_back(k, a);
    if (k == e.key) attempt = a;
  }
  auto back = take_down(sup, e.key, p);
  const auto delay = sup.backoff.delay(attempt, unit_random);
  if (delay > Duration::zero()) {
    // The rest of the group is down now; all come back when the delay is over.
    p.restart_later = e.key;
    p.delay = delay;
    p.delay_counted = true;
  } else {
    p.start = std::move(back);
  }
  return p;
}

Plan on_restart_due(const Supervisor& sup, const RestartDue& e, TimePoint now, double unit_random) {
  (void)unit_random;
  Plan p;
  p.restarts = sup.restarts;
  const Child* child = find(sup.children, e.key);
  // Terminated, restarted or deleted by hand meanwhile: nothing to do (OTP).
  if (!child || child->state != ChildState::restarting) return p;
  if (!e.counted) {
    if (!count_restart(p.restarts, sup.max_restarts, sup.within, now)) {
      p.end = Plan::End::intensity_exceeded;
      return p;
    }
    p.counted = true;
  }
  p.start = take_down(sup, e.key, p);
  return p;
}

Plan on_start_failed(const Supervisor& sup, const StartFailed& e, TimePoint now, double unit_random) {
  (void)now;
  Plan p;
  p.restarts = sup.restarts;
  const Child* child = find(sup.children, e.key);
  if (!child) return p;
  // It owns the retry; what it takes down and brings back is decided again
  // then, from the strategy (one_for_all: everyone, the ones started by
  // this attempt too, so a group restart is all or nothing).
  const int attempt = child->attempt + 1;
  p.attempts.emplace_back(e.key, attempt);
  p.restart_later = e.key;
  p.delay = sup.backoff.delay(attempt, unit_random);
  p.delay_counted = false;
  return p;
}

}  // namespace noexpp::sup::plan
