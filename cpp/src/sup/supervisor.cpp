#include "noexpp/sup/supervisor.hpp"

#include "supervisor_server.hpp"
#include "supervisor_state.hpp"

namespace noexpp::sup {
namespace {

Error not_running(Pid pid) {
  return Error{Errc::supervisor_not_running, "supervisor " + pid.to_string() + " is not running"};
}

/// Runs `f` inside the supervisor process (a call carrying a staged job) and
/// returns what it returned.
template <class T, class F>
Result<T> ask(Node& node, Pid pid, SupervisorState& state, Duration timeout, F f) {
  auto slot = std::make_shared<std::optional<Result<T>>>();
  auto token = state.stage([slot, f = std::move(f)](SupervisorServer& s) mutable { slot->emplace(f(s)); });
  CallOutcome o = node.call(pid, Term::tuple({"$sup", Term(token)}), timeout);
  if (!o.ok()) {
    state.take(token);  // not run: forget it
    if (o.status == CallOutcome::Status::timeout)
      return Error{Errc::call_timeout, "supervisor " + pid.to_string() + " did not answer in time"};
    return not_running(pid);
  }
  if (!*slot) return not_running(pid);
  return std::move(**slot);
}

}  // namespace

Supervisor::Supervisor(std::shared_ptr<Node> node, Pid pid, std::shared_ptr<SupervisorState> state)
    : node_(std::move(node)), pid_(pid), state_(std::move(state)) {}

bool Supervisor::running() const { return node_ && node_->alive(pid_); }

Result<Pid> Supervisor::start_child(ChildSpec spec, Duration timeout) {
  return ask<Pid>(*node_, pid_, *state_, timeout,
                  [spec = std::move(spec)](SupervisorServer& s) mutable { return s.add_child(std::move(spec)); });
}

Result<Pid> Supervisor::start_child(Term extra_args, Duration timeout) {
  return ask<Pid>(*node_, pid_, *state_, timeout,
                  [args = std::move(extra_args)](SupervisorServer& s) { return s.add_template_child(args); });
}

Result<bool> Supervisor::terminate_child(const std::string& id, Duration timeout) {
  return ask<bool>(*node_, pid_, *state_, timeout, [id](SupervisorServer& s) { return s.terminate_child(id); });
}

Result<bool> Supervisor::terminate_child(Pid child, Duration timeout) {
  return ask<bool>(*node_, pid_, *state_, timeout, [child](SupervisorServer& s) { return s.terminate_child(child); });
}

Result<Pid> Supervisor::restart_child(const std::string& id, Duration timeout) {
  return ask<Pid>(*node_, pid_, *state_, timeout, [id](SupervisorServer& s) { return s.restart_child(id); });
}

Result<bool> Supervisor::delete_child(const std::string& id, Duration timeout) {
  return ask<bool>(*node_, pid_, *state_, timeout, [id](SupervisorServer& s) { return s.delete_child(id); });
}

Result<std::vector<ChildInfo>> Supervisor::which_children(Duration timeout) {
  return ask<std::vector<ChildInfo>>(*node_, pid_, *state_, timeout,
                                     [](SupervisorServer& s) { return s.which_children(); });
}

Result<Supervisor> Supervisor::child_supervisor(const std::string& id, Duration timeout) {
  return ask<Supervisor>(*node_, pid_, *state_, timeout, [id](SupervisorServer& s) { return s.child_supervisor(id); });
}

Result<ChildCounts> Supervisor::count_children(Duration timeout) {
  return ask<ChildCounts>(*node_, pid_, *state_, timeout, [](SupervisorServer& s) { return s.count_children(); });
}

SupervisorStats Supervisor::stats(Duration timeout) {
  if (running()) {
    auto r = ask<SupervisorStats>(*node_, pid_, *state_, timeout, [](SupervisorServer& s) { return s.stats(); });
    if (r) return r.value();
  }
  if (auto final = state_->final_stats()) return *final;
  SupervisorStats s;
  s.health = "stopped";
  return s;
}

Result<bool> Supervisor::stop(Duration timeout) {
  if (!running()) return true;  // idempotent, like Node::stop
  auto r = node_->stop_process(pid_, ExitReason::shutdown(), timeout);
  if (!r && r.error().code == Errc::no_process) return true;
  return r;
}

Result<Supervisor> start_supervisor(const std::shared_ptr<Node>& node, SupervisorSpec spec, const SpawnOptions& opts) {
  if (auto ok = validate(spec); !ok) return ok.error();
  auto state = std::make_shared<SupervisorState>();
  auto pid = spawn_supervisor(*node, std::move(spec), state, opts);
  if (!pid) return pid.error();
  return Supervisor(node, pid.value(), state);
}

}  // namespace noexpp::sup
