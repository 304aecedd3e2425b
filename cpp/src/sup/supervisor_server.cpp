#include "supervisor_server.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "../core/log.hpp"
#include "child_shutdown.hpp"
#include "noexpp/core/node.hpp"
#include "noexpp/sup/restart_decision.hpp"

namespace noexpp::sup {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kTag = "$sup";

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// simple_one_for_one: the template's args followed by start_child's, as a
/// tuple when the template's are one (Python's *args), else as a list.
Term append_args(const Term& base, const Term& extra) {
  std::vector<Term> items;
  auto add = [&](const Term& t) {
    if (t.is_list())
      items.insert(items.end(), t.as_list().items.begin(), t.as_list().items.end());
    else if (t.is_tuple())
      items.insert(items.end(), t.as_tuple().items.begin(), t.as_tuple().items.end());
    else if (!t.is_nil())
      items.push_back(t);
  };
  add(base);
  add(extra);
  return base.is_tuple() ? Term::tuple(std::move(items)) : Term::list(std::move(items));
}

Error not_found(const std::string& id) { return Error{Errc::child_not_found, "no child '" + id + "'"}; }
Error not_for_simple(const char* op) {
  return Error{Errc::invalid_simple_one_for_one, std::string(op) + " by id is not available with simple_one_for_one" +
                                                     (std::string(op) == "terminate_child" ? " (pass the child's pid)" : "")};
}

/// "5 s", "0.25 s": seconds as people write them.
std::string format_seconds(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", std::chrono::duration<double>(d).count());
  return buf;
}

}  // namespace

SupervisorServer::SupervisorServer(SupervisorSpec spec, std::shared_ptr<SupervisorState> state, Pid parent)
    : spec_(std::move(spec)), state_(std::move(state)), parent_(parent),
      intensity_(spec_.max_restarts, spec_.within) {}

// ---- lifecycle -------------------------------------------------------------

void SupervisorServer::init(const Term&) {
  trap_exit(true);
  started_ = Clock::now();
  emit("supervisor_started", {{"strategy", to_string(spec_.strategy)}});
  auto statics = std::move(spec_.children);
  spec_.children.clear();
  for (auto& c : statics) {
    auto it = add_record(std::move(c));
    if (auto r = start(*it); !r) {
      const std::string why = "child '" + it->spec.id + "' failed to start: " + r.error().detail;
      forget(it);
      stop_all();  // the ones already started, newest first
      stop_reason_ = why;
      stopped_ = true;
      state_->set_final(stats());
      emit("supervisor_stopped", {{"reason", why}, {"error", Term()}});  // spawn fails: no exit monitor
      throw HandlerError("ChildStartError", why);
    }
    emit("child_started", {{"child_id", it->spec.id}, {"pid", it->pid}});
  }
}

void SupervisorServer::terminate(const ExitReason& reason) {
  // A dead parent ends a supervisor straight through terminate (Process).
  if (stop_reason_.empty() && !parent_.is_nil() && !node().alive(parent_))
    stop_reason_ = "parent exited: " + reason.to_string();
  if (stop_reason_.empty()) stop_reason_ = reason.to_string();
  stop_all();
  stopped_ = true;
  // supervisor_stopped is emitted by the monitor spawn_supervisor set up,
  // once this process is gone, so a subscriber sees it stopped.
  state_->set_final(stats());
}

// ---- messages ----------------------------------------------------------------

CallReply SupervisorServer::handle_call(const Term& request, const From&) {
  if (request.is_tuple() && request.as_tuple().items.size() == 2 && request.as_tuple().items[0].is(kTag) &&
      request.as_tuple().items[1].is_int()) {
    if (auto job = state_->take(static_cast<std::uint64_t>(request.as_tuple().items[1].as_int()))) job(*this);
    return Term();
  }
  log().warn("supervisor {}: unexpected call {}", label(), request.to_string());
  return Term::tuple({"error", "unknown request"});
}

void SupervisorServer::handle_info(const Info& info) {
  if (info.kind == Info::Kind::exit) {
    if (info.from == parent_ && !parent_.is_nil()) {
      stop_reason_ = "parent exited: " + info.reason.to_string();
      stop(info.reason);
      return;
    }
    if (auto it = find_pid(info.from); it != children_.end()) on_child_exit(it, info.reason);
    return;  // a child already forgotten (stopped by us): nothing to do
  }
  if (info.kind == Info::Kind::message && info.message.is_tuple()) {
    auto& items = info.message.as_tuple().items;
    if (items.size() == 4 && items[0].is(kTag) && items[1].is("restart") && items[2].is_list() &&
        items[3].is_int()) {
      std::vector<std::uint64_t> keys;
      for (auto& k : items[2].as_list().items) keys.push_back(static_cast<std::uint64_t>(k.as_int()));
      restart_pending(keys, static_cast<std::uint64_t>(items[3].as_int()));
    }
  }
}

// ---- starting and stopping children ---------------------------------------

Result<Pid> SupervisorServer::start(ChildRecord& rec) {
  SpawnOptions opts;
  opts.name = rec.spec.name;
  opts.link_to = self();
  opts.parent = self();
  rec.directive = std::make_shared<std::atomic<Directive>>(Directive::restart);
  if (spec_.decider && !rec.spec.is_supervisor()) {
    opts.on_crash = [decider = spec_.decider, id = rec.spec.id, box = rec.directive, node = &node(),
                     sup = label(), sup_pid = self()](const ExitReason& reason) {
      Directive d = Directive::restart;
      try {
        d = decider(id, reason);
      } catch (const std::exception& e) {
        log().error("supervisor {}: decider raised for child '{}' ({}); restarting", sup, id, e.what());
      }
      if (d == Directive::resume) {
        node->events().emit("child_resumed", Term::map({{"supervisor", sup},
                                                        {"supervisor_pid", sup_pid},
                                                        {"child_id", id},
                                                        {"reason", reason.to_string()}}));
        return true;
      }
      box->store(d, std::memory_order_release);  // read when the EXIT reaches the supervisor
      return false;
    };
  }
  if (rec.spec.is_supervisor()) rec.nested_state = std::make_shared<SupervisorState>();
  Result<Pid> r = rec.spec.is_supervisor() ? spawn_supervisor(node(), *rec.spec.supervisor, rec.nested_state, opts)
                                           : node().spawn(rec.spec.behavior, rec.spec.args, opts);
  if (!r) return r;
  rec.pid = r.value();
  rec.started_mono = Clock::now();
  rec.started_at = wall_now();
  by_pid_[rec.pid] = by_key_.at(rec.key);
  return r;
}

void SupervisorServer::stop_running(ChildRecord& rec) {
  std::vector<ChildToStop> one{{rec.pid, rec.spec.shutdown_time(), {}}};
  by_pid_.erase(rec.pid);
  const Pid old = rec.pid;
  rec.pid = {};
  shutdown_children(node(), self(), one);
  emit("child_stopped", {{"child_id", rec.spec.id}, {"pid", old}, {"reason", one[0].exited_with.to_string()}});
}

void SupervisorServer::stop_all() {
  for (auto& rec : children_) rec.restart_pending = false;
  if (!is_simple()) {
    for (auto it = children_.rbegin(); it != children_.rend(); ++it)
      if (it->running()) stop_running(*it);
    return;
  }
  // simple_one_for_one children are alike and independent: stop them all at
  // once, as OTP does, instead of 10,000 round trips one after another.
  std::vector<ChildToStop> all;
  std::vector<Iter> recs;
  for (auto it = children_.begin(); it != children_.end(); ++it) {
    if (!it->running()) continue;
    all.push_back({it->pid, it->spec.shutdown_time(), {}});
    recs.push_back(it);
    by_pid_.erase(it->pid);
  }
  shutdown_children(node(), self(), all);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    recs[i]->pid = {};
    emit("child_stopped", {{"child_id", recs[i]->spec.id}, {"pid", all[i].pid},
                           {"reason", all[i].exited_with.to_string()}});
  }
}

SupervisorServer::Iter SupervisorServer::find_id(const std::string& id) {
  return std::find_if(children_.begin(), children_.end(), [&](const ChildRecord& r) { return r.spec.id == id; });
}

SupervisorServer::Iter SupervisorServer::find_pid(Pid pid) {
  auto it = by_pid_.find(pid);
  return it == by_pid_.end() ? children_.end() : it->second;
}

SupervisorServer::Iter SupervisorServer::find_key(std::uint64_t key) {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? children_.end() : it->second;
}

SupervisorServer::Iter SupervisorServer::add_record(ChildSpec spec) {
  auto& rec = children_.emplace_back();
  rec.key = next_key_++;
  rec.spec = std::move(spec);
  auto it = std::prev(children_.end());
  by_key_.emplace(rec.key, it);
  return it;
}

void SupervisorServer::forget(Iter it) {
  if (it->running()) by_pid_.erase(it->pid);
  by_key_.erase(it->key);
  children_.erase(it);
}

// ---- restarts ----------------------------------------------------------------

void SupervisorServer::on_child_exit(Iter it, const ExitReason& reason) {
  ChildRecord& rec = *it;
  by_pid_.erase(rec.pid);
  const Pid old = rec.pid;
  rec.pid = {};
  if (reason.is_abnormal()) rec.last_error = reason.to_string();
  emit("child_stopped", {{"child_id", rec.spec.id}, {"pid", old}, {"reason", reason.to_string()}});

  const Directive directive = rec.directive->load(std::memory_order_acquire);
  if (directive == Directive::escalate) {
    give_up("child '" + rec.spec.id + "' escalated: " + reason.to_string(), Errc::max_restarts_exceeded);
    return;
  }
  if (directive == Directive::stop || !should_restart(rec.spec.restart, reason)) {
    const bool significant = rec.spec.significant;
    // OTP forgets temporary children once they exit; simple_one_for_one ones too.
    if (directive == Directive::stop || rec.spec.restart == RestartType::temporary || is_simple()) forget(it);
    if (significant) check_auto_shutdown();
    return;
  }
  if (!count_restart(rec, reason)) return;

  auto group = restart_group(it);
  // The rest of the group goes down newest first, then all come back in order.
  for (auto g = group.rbegin(); g != group.rend(); ++g)
    if (*g != it && (*g)->running()) stop_running(**g);
  const auto now = Clock::now();
  std::vector<std::uint64_t> keys;
  for (auto g : group) {
    if (g != it && g->spec.restart == RestartType::temporary) {  // OTP does not bring these back
      forget(g);
      continue;
    }
    if (now - g->started_mono >= spec_.backoff.reset_period()) g->attempt = 0;  // it had been healthy
    ++g->attempt;
    g->restart_pending = true;
    g->restart_token = 0;  // an older restart message for it is stale now
    keys.push_back(g->key);
  }
  schedule_restart(keys, spec_.backoff.delay(rec.attempt, unit_random()), true);
}

std::vector<SupervisorServer::Iter> SupervisorServer::restart_group(Iter failed) {
  std::vector<Iter> group;
  switch (spec_.strategy) {
    case Strategy::one_for_one:
    case Strategy::simple_one_for_one: group.push_back(failed); break;
    case Strategy::one_for_all:
      for (auto it = children_.begin(); it != children_.end(); ++it) group.push_back(it);
      break;
    case Strategy::rest_for_one:
      for (auto it = failed; it != children_.end(); ++it) group.push_back(it);
      break;
  }
  return group;
}

void SupervisorServer::schedule_restart(const std::vector<std::uint64_t>& keys, Duration delay, bool inline_ok) {
  if (keys.empty()) return;
  if (delay <= Duration::zero() && inline_ok) {
    restart_pending(keys);  // the common case: at once, no message round trip
    return;
  }
  const std::uint64_t token = next_restart_token_++;
  std::vector<Term> ks;
  for (auto k : keys) {
    ks.emplace_back(k);
    if (auto it = find_key(k); it != children_.end()) it->restart_token = token;
  }
  Term msg = Term::tuple({kTag, "restart", Term::list(std::move(ks)), Term(token)});
  // A failed restart retries through a message to self, as OTP does, so a
  // stop request or a call can get in between.
  if (delay <= Duration::zero())
    send(self(), std::move(msg));
  else
    send_after(delay, std::move(msg));
}

void SupervisorServer::restart_pending(const std::vector<std::uint64_t>& keys, std::uint64_t token) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto it = find_key(keys[i]);
    if (it == children_.end() || !it->restart_pending) continue;
    if (token != 0 && it->restart_token != token) continue;  // a newer wait owns it
    auto r = start(*it);
    if (!r) {
      it->last_error = "start failed: " + r.error().detail;
      emit("child_start_failed", {{"child_id", it->spec.id}, {"reason", r.error().detail}});
      if (!count_restart(*it, ExitReason::error("ChildStartError", r.error().detail))) break;
      ++it->attempt;
      std::vector<std::uint64_t> rest;  // this one and the later ones this restart still owns
      for (std::size_t j = i; j < keys.size(); ++j) {
        auto r2 = find_key(keys[j]);
        if (r2 != children_.end() && r2->restart_pending && (token == 0 || r2->restart_token == token))
          rest.push_back(keys[j]);
      }
      schedule_restart(rest, spec_.backoff.delay(it->attempt, unit_random()), false);
      return;
    }
    it->restart_pending = false;
    ++it->restart_count;
    emit("child_restarted", {{"child_id", it->spec.id},
                             {"pid", it->pid},
                             {"attempt", it->attempt},
                             {"restart_count", it->restart_count}});
  }
}

double SupervisorServer::unit_random() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

bool SupervisorServer::count_restart(const ChildRecord& rec, const ExitReason& reason) {
  if (intensity_.add(Clock::now())) {
    ++total_restarts_;
    return true;
  }
  emit("restart_intensity_exceeded", {{"child_id", rec.spec.id},
                                      {"max_restarts", spec_.max_restarts},
                                      {"within", std::chrono::duration<double>(spec_.within).count()}});
  give_up("more than " + std::to_string(spec_.max_restarts) + " restarts within " + format_seconds(spec_.within) +
              " (last: child '" + rec.spec.id + "': " + reason.to_string() + ")",
          Errc::max_restarts_exceeded);
  return false;
}

void SupervisorServer::give_up(const std::string& why, Errc error) {
  log().error("supervisor {} gives up: {}", label(), why);
  stop_reason_ = why;
  stop_error_ = error;
  stop(ExitReason::shutdown());  // terminate stops the children; the parent sees `shutdown`
}

void SupervisorServer::check_auto_shutdown() {
  if (spec_.auto_shutdown == AutoShutdown::never) return;
  if (spec_.auto_shutdown == AutoShutdown::all_significant &&
      std::any_of(children_.begin(), children_.end(),
                  [](const ChildRecord& r) { return r.spec.significant && (r.running() || r.restart_pending); }))
    return;
  stop_reason_ = std::string("auto_shutdown (") + to_string(spec_.auto_shutdown) + ")";
  stop(ExitReason::shutdown());
}

// ---- requests from handles ---------------------------------------------------

Result<Pid> SupervisorServer::add_child(ChildSpec spec) {
  if (is_simple()) return Error{Errc::invalid_simple_one_for_one, "simple_one_for_one starts children with start_child(args)"};
  if (auto ok = validate(spec, spec_.auto_shutdown); !ok) return ok.error();
  if (find_id(spec.id) != children_.end()) return Error{Errc::duplicate_child, "child '" + spec.id + "' already present"};
  auto it = add_record(std::move(spec));
  auto r = start(*it);
  if (!r) {
    const std::string why = "child '" + it->spec.id + "' failed to start: " + r.error().detail;
    forget(it);
    return Error{r.error().code, why};
  }
  emit("child_started", {{"child_id", it->spec.id}, {"pid", it->pid}});
  return r;
}

Result<Pid> SupervisorServer::add_template_child(const Term& extra_args) {
  if (!is_simple()) return Error{Errc::invalid_argument, "start_child(args) is for simple_one_for_one; pass a ChildSpec"};
  ChildSpec spec = *spec_.child_template;
  spec.args = append_args(spec.args, extra_args);
  auto it = add_record(std::move(spec));
  auto r = start(*it);
  if (!r) {
    forget(it);
    return r;
  }
  emit("child_started", {{"child_id", it->spec.id}, {"pid", it->pid}});
  return r;
}

Result<bool> SupervisorServer::terminate_child(const std::string& id) {
  if (is_simple()) return not_for_simple("terminate_child");
  auto it = find_id(id);
  if (it == children_.end()) return not_found(id);
  it->restart_pending = false;
  if (it->running()) stop_running(*it);
  if (it->spec.restart == RestartType::temporary) forget(it);
  return true;
}

Result<bool> SupervisorServer::terminate_child(Pid pid) {
  auto it = find_pid(pid);
  if (it == children_.end()) return Error{Errc::child_not_found, "no child with pid " + pid.to_string()};
  stop_running(*it);
  if (is_simple() || it->spec.restart == RestartType::temporary) forget(it);
  return true;
}

Result<Pid> SupervisorServer::restart_child(const std::string& id) {
  if (is_simple()) return not_for_simple("restart_child");
  auto it = find_id(id);
  if (it == children_.end()) return not_found(id);
  if (it->running() || it->restart_pending) return Error{Errc::child_running, "child '" + id + "' is running"};
  auto r = start(*it);
  if (!r) return Error{r.error().code, "child '" + id + "' failed to start: " + r.error().detail};
  emit("child_started", {{"child_id", id}, {"pid", it->pid}});
  return r;
}

Result<bool> SupervisorServer::delete_child(const std::string& id) {
  if (is_simple()) return not_for_simple("delete_child");
  auto it = find_id(id);
  if (it == children_.end()) return not_found(id);
  if (it->running() || it->restart_pending)
    return Error{Errc::child_running, "child '" + id + "' is running; terminate it first"};
  forget(it);
  return true;
}

Result<Supervisor> SupervisorServer::child_supervisor(const std::string& id) {
  auto it = find_id(id);
  if (it == children_.end()) return not_found(id);
  if (!it->spec.is_supervisor())
    return Error{Errc::invalid_argument, "child '" + id + "' is a worker, not a supervisor"};
  if (!it->running()) return Error{Errc::supervisor_not_running, "child supervisor '" + id + "' is not running"};
  return Supervisor(node().shared_from_this(), it->pid, it->nested_state);
}

std::vector<ChildInfo> SupervisorServer::which_children() const {
  std::vector<ChildInfo> out;
  out.reserve(children_.size());
  for (auto& r : children_)
    out.push_back(ChildInfo{r.spec.id, r.pid, r.spec.is_supervisor() ? "supervisor" : r.spec.behavior_name,
                            r.spec.restart, r.spec.is_supervisor(), r.restart_count,
                            r.running() ? r.started_at : 0.0});
  return out;
}

ChildCounts SupervisorServer::count_children() const {
  ChildCounts c;
  for (auto& r : children_) {
    ++c.specs;
    if (r.running()) ++c.active;
    if (r.spec.is_supervisor())
      ++c.supervisors;
    else
      ++c.workers;
  }
  return c;
}

SupervisorStats SupervisorServer::stats() {
  SupervisorStats s;
  s.running = !stopped_;
  s.child_count = children_.size();
  s.total_restarts = total_restarts_;
  s.uptime = seconds_since(started_);
  s.stop_reason = stopped_ ? stop_reason_ : "";
  s.stop_error = stop_error_;
  bool pending = false;
  for (auto& r : children_) {
    pending = pending || r.restart_pending;
    s.children.push_back(ChildStats{r.spec.id, r.pid, r.restart_count, r.last_error,
                                    r.running() ? seconds_since(r.started_mono) : 0.0});
  }
  if (stopped_)
    s.health = stop_error_ == Errc::ok ? "stopped" : "failed";
  else if (pending)
    s.health = "restarting";
  else if (intensity_.recent(Clock::now()) > 0)
    s.health = "degraded";
  else
    s.health = "healthy";
  return s;
}

// ---- events ------------------------------------------------------------------

void SupervisorServer::emit(const char* type, std::vector<std::pair<Term, Term>> fields) {
  auto& bus = node().events();
  if (!bus.active()) return;
  fields.emplace_back("supervisor", label());
  fields.emplace_back("supervisor_pid", self());
  bus.emit(type, Term::map(std::move(fields)));
}

std::string SupervisorServer::label() const { return spec_.name.empty() ? self().to_string() : spec_.name; }

Result<Pid> spawn_supervisor(Node& node, SupervisorSpec spec, std::shared_ptr<SupervisorState> state,
                             const SpawnOptions& opts) {
  SpawnOptions o = opts;
  if (o.name.empty()) o.name = spec.name;
  o.on_crash = nullptr;  // a supervisor's own failure is never resumed
  const Pid parent = opts.link_to;
  auto shared_spec = std::make_shared<SupervisorSpec>(std::move(spec));
  BehaviorFactory factory = [shared_spec, state, parent] {
    return std::make_unique<SupervisorServer>(*shared_spec, state, parent);
  };
  auto pid = node.spawn(factory, Term(), o);
  const std::string label = shared_spec->name;
  auto stopped = [&node, state, label](Pid sup) {
    auto final = state->final_stats();
    node.events().emit("supervisor_stopped",
                       Term::map({{"supervisor", label.empty() ? sup.to_string() : label},
                                  {"supervisor_pid", sup},
                                  {"reason", final ? final->stop_reason : "unknown"},
                                  {"error", final && final->stop_error != Errc::ok ? Term("max_restarts_exceeded")
                                                                                    : Term()}}));
  };
  if (!pid) return pid;  // init failed (it reported supervisor_stopped itself)
  // After the process has left the table: subscribers see it stopped.
  node.monitor(pid.value(), [stopped](Pid sup, const ExitReason&) { stopped(sup); });
  return pid;
}

}  // namespace noexpp::sup
