#include "sup/supervisor_server.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/internal/log.hpp"
#include "noexpp/node.hpp"
#include "sup/child_shutdown.hpp"

namespace noexpp::sup {
namespace {

constexpr const char* kTag = "$sup";

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

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

Error not_found(const std::string& id) { return Error{SupErrc::child_not_found, "no child '" + id + "'"}; }
Error not_for_simple(const char* op) {
  return Error{SupErrc::invalid_simple_one_for_one,
               std::string(op) + " by id is not available with simple_one_for_one" +
                   (std::string(op) == "terminate_child" || std::string(op) == "get_childspec" ? " (pass the child's pid)"
                                                                                                : "")};
}

/// "5 s", "0.25 s": seconds as people write them.
std::string format_seconds(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", std::chrono::duration<double>(d).count());
  return buf;
}

}  // namespace

SupervisorServer::SupervisorServer(SupervisorSpec spec, std::shared_ptr<RequestBox> box, Pid parent,
                                   std::shared_ptr<ChildStarter> starter)
    : spec_(std::move(spec)),
      box_(std::move(box)),
      parent_(parent),
      starter_(starter ? std::move(starter) : std::make_shared<LocalStarter>()) {}

// ---- lifecycle -------------------------------------------------------------

void SupervisorServer::init(const Term&) {
  trap_exit(true);
  started_ = now();
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
      box_->set_start_error(Error{r.error().code, why});
      box_->set_final(stats());
      emit("supervisor_stopped", {{"reason", why}, {"error", Term()}});  // spawn fails: no exit monitor
      throw HandlerError("ChildStartError", why);
    }
    if (ignored(it)) continue;
    emit_started(*it);
  }
}

bool SupervisorServer::ignored(Iter it) {
  if (it->running()) return false;
  // A temporary child that starts as ignore is gone for good (OTP).
  if (it->spec.restart == RestartType::temporary || is_simple()) forget(it);
  return true;
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
  box_->set_final(stats());
}

// ---- messages ----------------------------------------------------------------

CallReply SupervisorServer::handle_call(const Term& request, const From&) {
  if (request.is_tuple() && request.as_tuple().items.size() == 2 && request.at(0).is(kTag) && request.at(1).is_int()) {
    const auto token = static_cast<std::uint64_t>(request.at(1).as_int());
    if (auto r = box_->take(token)) box_->answer(token, std::visit([this](auto& req) { return handle(req); }, *r));
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
  // ("$sup", "restart", key, token, counted): a restart a child waits for came due.
  const Term& m = info.message;
  if (info.kind == Info::Kind::message && m.is_tuple() && m.at(0).is(kTag) && m.at(1).is("restart") &&
      m.at(2).is_int() && m.at(3).is_int() && m.at(4).is_bool())
    on_restart_due(static_cast<std::uint64_t>(m.at(2).as_int()), static_cast<std::uint64_t>(m.at(3).as_int()),
                   m.at(4).as_bool());
}

// ---- events, through the plan -------------------------------------------------

plan::Supervisor SupervisorServer::view() const {
  plan::Supervisor v;
  v.strategy = spec_.strategy;
  v.auto_shutdown = spec_.auto_shutdown;
  v.max_restarts = spec_.max_restarts;
  v.within = spec_.within;
  v.backoff = spec_.backoff;
  v.restarts = restarts_;
  v.children.reserve(children_.size());
  for (auto& r : children_)
    v.children.push_back({r.key, r.spec.restart, r.spec.significant, r.state, r.started_mono, r.attempt});
  return v;
}

void SupervisorServer::on_node_lost(Iter child, const ExitReason& reason, Duration wait, bool whole_node) {
  const std::string node_id = child->node_id;
  // A node found down: its links broke all at once, so take every child it
  // held now (their EXITs behind this one find them stopped: ignored).
  std::vector<Iter> lost{child};
  if (whole_node)
    for (auto it = children_.begin(); it != children_.end(); ++it)
      if (it != child && it->running() && it->node_id == node_id) lost.push_back(it);
  std::sort(lost.begin(), lost.end(), [&](Iter x, Iter y) { return x->key < y->key; });  // start order
  if (whole_node) {
    std::vector<Term> ids;
    for (auto it : lost) ids.emplace_back(it->spec.id);
    emit("node_failure_detected", {{"node_id", node_id}, {"children", Term::list(std::move(ids))}});
  }
  for (auto it : lost) {
    const Pid old = it->pid;
    mark_stopped(*it);
    it->lost_from = node_id;
    it->lost_with_leaving_node = wait == Duration::zero();
    it->last_failure = reason;
    emit("child_stopped", {{"child_id", it->spec.id}, {"pid", old}, {"reason", reason.to_string()}, {"node_id", node_id}});
  }
  for (auto it : lost) {
    // A group restart of an earlier one may have taken this one over.
    if (it->state != plan::ChildState::stopped || it->lost_from.empty()) continue;
    const std::string id = it->spec.id;
    apply(plan::on_exit(view(), {it->key, reason, Directive::restart, wait}, now(), unit_random()), id, reason);
  }
}

void SupervisorServer::on_child_exit(Iter it, const ExitReason& reason) {
  if (auto wait = starter_->lost_with_node(it->pid, reason))
    return on_node_lost(it, reason, *wait, *wait > Duration::zero());
  ChildRecord& rec = *it;
  const Pid old = rec.pid;
  mark_stopped(rec);
  if (reason.is_abnormal()) rec.last_error = reason.to_string();
  rec.last_failure = reason;
  std::vector<std::pair<Term, Term>> fields{{"child_id", rec.spec.id}, {"pid", old}, {"reason", reason.to_string()}};
  if (!reason.last_message.empty()) fields.emplace_back("last_message", reason.last_message);
  emit("child_stopped", std::move(fields));
  const auto directive = rec.directive->load(std::memory_order_acquire);
  const std::string id = rec.spec.id;
  apply(plan::on_exit(view(), {rec.key, reason, directive}, now(), unit_random()), id, reason);
}

void SupervisorServer::on_restart_due(std::uint64_t key, std::uint64_t token, bool counted) {
  auto it = find_key(key);
  if (it == children_.end() || it->restart_token != token) return;  // stale: a newer wait owns it
  const std::string id = it->spec.id;
  const ExitReason cause = it->last_failure;
  apply(plan::on_restart_due(view(), {key, counted}, now(), unit_random()), id, cause);
}

void SupervisorServer::apply(const plan::Plan& p, const std::string& cause_id, const ExitReason& cause) {
  if (p.counted) ++total_restarts_;
  restarts_ = p.restarts;
  for (auto& [key, attempt] : p.attempts)
    if (auto it = find_key(key); it != children_.end()) it->attempt = attempt;
  switch (p.end) {
    case plan::Plan::End::escalated:
      return give_up("child '" + cause_id + "' escalated: " + cause.to_string(), SupErrc::max_restarts_exceeded);
    case plan::Plan::End::intensity_exceeded:
      emit("restart_intensity_exceeded", {{"child_id", cause_id},
                                          {"max_restarts", spec_.max_restarts},
                                          {"within", std::chrono::duration<double>(spec_.within).count()}});
      return give_up("more than " + std::to_string(spec_.max_restarts) + " restarts within " +
                         format_seconds(spec_.within) + " (last: child '" + cause_id + "': " + cause.to_string() + ")",
                     SupErrc::max_restarts_exceeded);
    default: break;
  }
  for (auto key : p.stop)
    if (auto it = find_key(key); it != children_.end() && it->running()) stop_running(*it);
  for (auto key : p.absorbed)
    if (auto it = find_key(key); it != children_.end() && it->restarting()) {
      it->state = plan::ChildState::stopped;
      it->restart_token = 0;
    }
  for (auto key : p.forget)
    if (auto it = find_key(key); it != children_.end()) forget(it);
  for (auto key : p.start) {
    auto it = find_key(key);
    if (it == children_.end()) continue;
    it->state = plan::ChildState::stopped;  // whatever it waited for, this start is it
    if (auto r = start(*it); !r) {
      it->last_error = "start failed: " + r.error().detail;
      it->last_failure = ExitReason::error("ChildStartError", r.error().detail);
      emit("child_start_failed", {{"child_id", it->spec.id}, {"reason", r.error().detail}});
      // The rest of this start list waits: the failed child owns the retry.
      return apply(plan::on_start_failed(view(), {key}, now(), unit_random()), it->spec.id, it->last_failure);
    }
    if (ignored(it)) continue;
    ++it->restart_count;
    std::vector<std::pair<Term, Term>> fields{{"child_id", it->spec.id},
                                              {"pid", it->pid},
                                              {"attempt", it->attempt},
                                              {"restart_count", it->restart_count}};
    if (distributed()) fields.emplace_back("node_id", it->node_id);
    emit("child_restarted", std::move(fields));
    if (!it->lost_from.empty()) {
      // Not counted toward the intensity (the plan did not count it).
      ++node_failure_restarts_;
      ++total_restarts_;
      emit("child_migrated", {{"child_id", it->spec.id},
                              {"pid", it->pid},
                              {"from_node", it->lost_from},
                              {"to_node", it->node_id},
                              {"reason", it->lost_with_leaving_node ? "node_leaving" : "node_down"}});
      it->lost_from.clear();
    }
  }
  if (p.restart_later)
    if (auto it = find_key(*p.restart_later); it != children_.end()) schedule_restart(*it, p.delay, p.delay_counted);
  if (p.end == plan::Plan::End::auto_shutdown) {
    stop_reason_ = std::string("auto_shutdown (") + to_string(spec_.auto_shutdown) + ")";
    stop(ExitReason::shutdown());
  }
}

void SupervisorServer::schedule_restart(ChildRecord& rec, Duration delay, bool counted) {
  rec.state = plan::ChildState::restarting;
  rec.restart_token = next_restart_token_++;
  Term msg = Term::tuple({kTag, "restart", Term(rec.key), Term(rec.restart_token), Term(counted)});
  // Through a message to self even without a delay, as OTP does: a stop
  // request or a call can get in between.
  if (delay <= Duration::zero())
    send(self(), std::move(msg));
  else
    send_after(delay, std::move(msg));
}

// ---- starting and stopping children ---------------------------------------

Result<Pid> SupervisorServer::start(ChildRecord& rec) {
  SpawnOptions opts;
  opts.name = rec.spec.name;
  opts.link_to = self();
  opts.parent = self();
  // Before its init runs: no exit of this run can be missed.
  opts.on_created = [this, &rec](Pid pid) { rec.exit = ChildExit::watch(node(), pid); };
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
  rec.exit = nullptr;
  Result<StartedChild> r = Error{Errc::invalid_argument, ""};
  if (rec.spec.is_supervisor()) {
    rec.nested = std::make_shared<RequestBox>();
    auto pid = spawn_supervisor(node(), *rec.spec.supervisor, rec.nested, opts);
    r = pid ? Result<StartedChild>(StartedChild{pid.value(), node().id()}) : Result<StartedChild>(pid.error());
  } else {
    r = starter_->start(node(), ChildStart{self(), rec.key, ++epoch_}, rec.spec, opts);
  }
  if (!r && r.error().code == Errc::ignored) {
    // OTP's ignore: no error, and the child stays as not running.
    rec.state = plan::ChildState::stopped;
    return Pid{};
  }
  if (!r) return r.error();
  rec.pid = r.value().pid;
  rec.node_id = r.value().node_id;
  // A child started on another node was watched from here once it ran.
  if (!rec.exit) rec.exit = ChildExit::watch(node(), rec.pid);
  rec.last_pid = rec.pid;
  rec.state = plan::ChildState::running;
  rec.started_mono = now();
  rec.started_at = wall_now();
  by_pid_[rec.pid] = by_key_.at(rec.key);
  return rec.pid;
}

void SupervisorServer::mark_stopped(ChildRecord& rec) {
  if (!rec.pid.is_nil()) by_pid_.erase(rec.pid);
  rec.pid = {};
  rec.state = plan::ChildState::stopped;
}

void SupervisorServer::stop_running(ChildRecord& rec) {
  std::vector<ChildToStop> one{{rec.pid, rec.spec.shutdown_time(), rec.exit, {}}};
  const Pid old = rec.pid;
  mark_stopped(rec);
  shutdown_children(node(), self(), one);
  emit("child_stopped", {{"child_id", rec.spec.id}, {"pid", old}, {"reason", one[0].exited_with.to_string()}});
}

void SupervisorServer::stop_all() {
  for (auto& rec : children_)
    if (rec.restarting()) rec.state = plan::ChildState::stopped;
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
    all.push_back({it->pid, it->spec.shutdown_time(), it->exit, {}});
    recs.push_back(it);
    mark_stopped(*it);
  }
  shutdown_children(node(), self(), all);
  for (std::size_t i = 0; i < recs.size(); ++i)
    emit("child_stopped",
         {{"child_id", recs[i]->spec.id}, {"pid", all[i].pid}, {"reason", all[i].exited_with.to_string()}});
}

SupervisorServer::Iter SupervisorServer::find_id(const std::string& id) {
  // simple_one_for_one's children all carry the template's id: no index.
  if (is_simple())
    return std::find_if(children_.begin(), children_.end(), [&](const ChildRecord& r) { return r.spec.id == id; });
  auto it = by_id_.find(id);
  return it == by_id_.end() ? children_.end() : it->second;
}

SupervisorServer::Iter SupervisorServer::find_simple_child(Pid pid) {
  auto it = find_pid(pid);
  if (it != children_.end()) return it;
  // A child waiting to restart is still known by the pid it last ran as.
  return std::find_if(children_.begin(), children_.end(),
                      [&](const ChildRecord& c) { return c.restarting() && c.last_pid == pid; });
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
  if (!is_simple()) by_id_.emplace(rec.spec.id, it);
  return it;
}

void SupervisorServer::forget(Iter it) {
  if (!it->pid.is_nil()) by_pid_.erase(it->pid);
  by_key_.erase(it->key);
  if (!is_simple()) by_id_.erase(it->spec.id);
  children_.erase(it);
}

void SupervisorServer::give_up(const std::string& why, std::error_code error) {
  log().error("supervisor {} gives up: {}", label(), why);
  stop_reason_ = why;
  stop_error_ = error;
  stop(ExitReason::shutdown());  // terminate stops the children; the parent sees `shutdown`
}

double SupervisorServer::unit_random() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

// ---- requests from handles ---------------------------------------------------

Reply SupervisorServer::handle(request::StartChild& r) {
  if (is_simple())
    return Result<Pid>(Error{SupErrc::invalid_simple_one_for_one, "simple_one_for_one starts children with start_child(args)"});
  if (auto ok = validate(r.spec, spec_.auto_shutdown); !ok) return Result<Pid>(ok.error());
  if (find_id(r.spec.id) != children_.end())
    return Result<Pid>(Error{SupErrc::duplicate_child, "child '" + r.spec.id + "' already present"});
  auto it = add_record(std::move(r.spec));
  auto started = start(*it);
  if (!started) {
    const std::string why = "child '" + it->spec.id + "' failed to start: " + started.error().detail;
    forget(it);
    return Result<Pid>(Error{started.error().code, why});
  }
  if (ignored(it)) return started;
  emit_started(*it);
  return started;
}

Reply SupervisorServer::handle(request::StartTemplateChild& r) {
  if (!is_simple())
    return Result<Pid>(Error{Errc::invalid_argument, "start_child(args) is for simple_one_for_one; pass a ChildSpec"});
  ChildSpec spec = *spec_.child_template;
  spec.args = append_args(spec.args, r.args);
  auto it = add_record(std::move(spec));
  auto started = start(*it);
  if (!started) {
    forget(it);
    return started;
  }
  if (ignored(it)) return started;
  emit_started(*it);
  return started;
}

Reply SupervisorServer::handle(request::TerminateChild& r) {
  if (is_simple()) return Result<bool>(not_for_simple("terminate_child"));
  auto it = find_id(r.id);
  if (it == children_.end()) return Result<bool>(not_found(r.id));
  if (it->restarting()) it->state = plan::ChildState::stopped;  // its pending restart is void now
  if (it->running()) stop_running(*it);
  if (it->spec.restart == RestartType::temporary) forget(it);
  return Result<bool>(true);
}

Reply SupervisorServer::handle(request::TerminateChildPid& r) {
  const Error not_a_child{SupErrc::child_not_found, "no child with pid " + r.pid.to_string()};
  // OTP terminates by id, except in simple_one_for_one, whose children have no id of their own.
  if (!is_simple()) return Result<bool>(Error{SupErrc::child_not_found, "no child with pid " + r.pid.to_string() +
                                                                           " (terminate a child of this supervisor by its id)"});
  auto it = find_simple_child(r.pid);
  if (it == children_.end()) {
    // A pid that is no longer alive is terminated already (OTP answers ok).
    if (!node().alive(r.pid) && node().is_local(r.pid)) return Result<bool>(true);
    return Result<bool>(not_a_child);
  }
  if (it->running()) stop_running(*it);
  forget(it);
  return Result<bool>(true);
}

Reply SupervisorServer::handle(request::RestartChild& r) {
  if (is_simple()) return Result<Pid>(not_for_simple("restart_child"));
  auto it = find_id(r.id);
  if (it == children_.end()) return Result<Pid>(not_found(r.id));
  if (it->running() || it->restarting())
    return Result<Pid>(Error{SupErrc::child_running,
                             "child '" + r.id + "' is " + (it->running() ? "running" : "waiting to restart")});
  auto started = start(*it);
  if (!started) return Result<Pid>(Error{started.error().code, "child '" + r.id + "' failed to start: " + started.error().detail});
  if (ignored(it)) return started;
  emit_started(*it);
  return started;
}

Reply SupervisorServer::handle(request::DeleteChild& r) {
  if (is_simple()) return Result<bool>(not_for_simple("delete_child"));
  auto it = find_id(r.id);
  if (it == children_.end()) return Result<bool>(not_found(r.id));
  if (it->running() || it->restarting())
    return Result<bool>(Error{SupErrc::child_running, "child '" + r.id + "' is running; terminate it first"});
  forget(it);
  return Result<bool>(true);
}

Reply SupervisorServer::handle(request::ChildSupervisor& r) {
  auto it = find_id(r.id);
  if (it == children_.end()) return Result<Supervisor>(not_found(r.id));
  if (!it->spec.is_supervisor())
    return Result<Supervisor>(Error{Errc::invalid_argument, "child '" + r.id + "' is a worker, not a supervisor"});
  if (!it->running())
    return Result<Supervisor>(Error{SupErrc::supervisor_not_running, "child supervisor '" + r.id + "' is not running"});
  return Result<Supervisor>(Supervisor(node().shared_from_this(), it->pid, it->nested));
}

Reply SupervisorServer::handle(request::GetChildSpec& r) {
  if (is_simple()) return Result<ChildSpec>(not_for_simple("get_childspec"));
  auto it = find_id(r.id);
  if (it == children_.end()) return Result<ChildSpec>(not_found(r.id));
  return Result<ChildSpec>(it->spec);
}

Reply SupervisorServer::handle(request::GetChildSpecPid& r) {
  if (!is_simple()) return Result<ChildSpec>(Error{SupErrc::child_not_found, "no child with pid " + r.pid.to_string() +
                                                                                  " (ask for a child of this supervisor by its id)"});
  auto it = find_simple_child(r.pid);
  if (it == children_.end()) return Result<ChildSpec>(Error{SupErrc::child_not_found, "no child with pid " + r.pid.to_string()});
  return Result<ChildSpec>(it->spec);
}

Reply SupervisorServer::handle(request::WhichChildren&) {
  std::vector<ChildInfo> out;
  out.reserve(children_.size());
  for (auto& r : children_)
    out.push_back(ChildInfo{r.spec.id, r.pid, r.spec.is_supervisor() ? "supervisor" : r.spec.behavior_name,
                            r.spec.restart, r.spec.is_supervisor(), r.restart_count,
                            r.running() ? r.started_at : 0.0,
                            r.running() ? "running" : r.restarting() ? "restarting" : "stopped", r.node_id});
  return out;
}

Reply SupervisorServer::handle(request::CountChildren&) {
  ChildCounts c;
  if (is_simple()) {
    // One spec, the template (OTP); every child is of its type.
    c.specs = 1;
    for (auto& r : children_) c.active += r.running() ? 1 : 0;
    (spec_.child_template->is_supervisor() ? c.supervisors : c.workers) = static_cast<int>(children_.size());
    return c;
  }
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

Reply SupervisorServer::handle(request::Stats&) { return stats(); }

SupervisorStats SupervisorServer::stats() const {
  SupervisorStats s;
  const auto t = now();
  s.running = !stopped_;
  s.child_count = children_.size();
  s.total_restarts = total_restarts_;
  s.node_failure_restarts = node_failure_restarts_;
  s.uptime = seconds_between(started_, t);
  s.stop_reason = stopped_ ? stop_reason_ : "";
  s.stop_error = stop_error_;
  bool restarting = false;
  for (auto& r : children_) {
    restarting = restarting || r.restarting();
    s.children.push_back(ChildStats{r.spec.id, r.pid, r.restart_count, r.last_error,
                                    r.running() ? seconds_between(r.started_mono, t) : 0.0, r.node_id});
  }
  if (stopped_)
    s.health = stop_error_ ? "failed" : "stopped";
  else if (restarting)
    s.health = "restarting";
  else if (plan::recent_restarts(restarts_, spec_.within, t) > 0)
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

void SupervisorServer::emit_started(const ChildRecord& rec) {
  std::vector<std::pair<Term, Term>> fields{{"child_id", rec.spec.id}, {"pid", rec.pid}};
  if (distributed()) fields.emplace_back("node_id", rec.node_id);
  emit("child_started", std::move(fields));
}

std::string SupervisorServer::label() const { return spec_.name.empty() ? self().to_string() : spec_.name; }

Result<Pid> spawn_supervisor(Node& node, SupervisorSpec spec, std::shared_ptr<RequestBox> box, const SpawnOptions& opts,
                             std::shared_ptr<ChildStarter> starter) {
  if (!starter && spec.starter) {
    auto made = spec.starter(node);
    if (!made) return made.error();
    starter = std::move(made.value());
  }
  SpawnOptions o = opts;
  if (o.name.empty()) o.name = spec.name;
  o.on_crash = nullptr;  // a supervisor's own failure is never resumed
  const Pid parent = opts.link_to;
  auto shared_spec = std::make_shared<SupervisorSpec>(std::move(spec));
  BehaviorFactory factory = [shared_spec, box, parent, starter] {
    return std::make_unique<SupervisorServer>(*shared_spec, box, parent, starter);
  };
  auto pid = node.spawn(factory, Term(), o);
  if (!pid) return pid;  // init failed (it reported supervisor_stopped itself)
  const std::string label = shared_spec->name;
  // After the process has left the table: subscribers see it stopped.
  node.monitor(pid.value(), [&node, box, label](Pid sup, const ExitReason& reason) {
    auto final = box->final_stats();
    node.events().emit("supervisor_stopped",
                       Term::map({{"supervisor", label.empty() ? sup.to_string() : label},
                                  {"supervisor_pid", sup},
                                  {"reason", final ? final->stop_reason : reason.to_string()},
                                  {"error", final && final->stop_error ? Term("max_restarts_exceeded") : Term()}}));
  });
  return pid;
}

}  // namespace noexpp::sup
