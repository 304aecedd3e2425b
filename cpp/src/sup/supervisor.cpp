#include "noexpp/sup/supervisor.hpp"

#include "sup/internal/child_starter.hpp"
#include "sup/requests.hpp"
#include "sup/supervisor_server.hpp"

namespace noexpp::sup {
namespace {

Error not_running(Pid pid) {
  return Error{SupErrc::supervisor_not_running, "supervisor " + pid.to_string() + " is not running"};
}

/// Sends `r` to the supervisor process (a call carrying its token) and
/// returns the reply it left, as a T.
template <class T>
Result<T> ask(Node& node, Pid pid, RequestBox& box, Duration timeout, Request r) {
  const auto token = box.post(std::move(r));
  CallOutcome o = node.call(pid, Term::tuple({"$sup", Term(token)}), timeout);
  auto reply = box.take_reply(token);
  box.forget(token);  // not handled (or handled too late): nothing of it stays
  if (!o.ok()) {
    if (o.status == Errc::call_timeout)
      return Error{Errc::call_timeout, "supervisor " + pid.to_string() + " did not answer in time"};
    return not_running(pid);
  }
  if (!reply) return not_running(pid);
  if constexpr (std::is_same_v<T, Pid> || std::is_same_v<T, bool> || std::is_same_v<T, Supervisor> ||
                std::is_same_v<T, ChildSpec>)
    return std::get<Result<T>>(std::move(*reply));
  else
    return std::get<T>(std::move(*reply));
}

}  // namespace

Supervisor::Supervisor(std::shared_ptr<Node> node, Pid pid, std::shared_ptr<RequestBox> box)
    : node_(std::move(node)), pid_(pid), box_(std::move(box)) {}

bool Supervisor::running() const { return node_ && node_->alive(pid_); }

Result<Pid> Supervisor::start_child(ChildSpec spec, Duration timeout) {
  return ask<Pid>(*node_, pid_, *box_, timeout, request::StartChild{std::move(spec)});
}

Result<Pid> Supervisor::start_child(Term extra_args, Duration timeout) {
  return ask<Pid>(*node_, pid_, *box_, timeout, request::StartTemplateChild{std::move(extra_args)});
}

Result<bool> Supervisor::terminate_child(const std::string& id, Duration timeout) {
  return ask<bool>(*node_, pid_, *box_, timeout, request::TerminateChild{id});
}

Result<bool> Supervisor::terminate_child(Pid child, Duration timeout) {
  return ask<bool>(*node_, pid_, *box_, timeout, request::TerminateChildPid{child});
}

Result<Pid> Supervisor::restart_child(const std::string& id, Duration timeout) {
  return ask<Pid>(*node_, pid_, *box_, timeout, request::RestartChild{id});
}

Result<bool> Supervisor::delete_child(const std::string& id, Duration timeout) {
  return ask<bool>(*node_, pid_, *box_, timeout, request::DeleteChild{id});
}

Result<ChildSpec> Supervisor::get_childspec(const std::string& id, Duration timeout) {
  return ask<ChildSpec>(*node_, pid_, *box_, timeout, request::GetChildSpec{id});
}

Result<ChildSpec> Supervisor::get_childspec(Pid child, Duration timeout) {
  return ask<ChildSpec>(*node_, pid_, *box_, timeout, request::GetChildSpecPid{child});
}

Result<std::vector<ChildInfo>> Supervisor::which_children(Duration timeout) {
  return ask<std::vector<ChildInfo>>(*node_, pid_, *box_, timeout, request::WhichChildren{});
}

Result<Supervisor> Supervisor::child_supervisor(const std::string& id, Duration timeout) {
  return ask<Supervisor>(*node_, pid_, *box_, timeout, request::ChildSupervisor{id});
}

Result<ChildCounts> Supervisor::count_children(Duration timeout) {
  return ask<ChildCounts>(*node_, pid_, *box_, timeout, request::CountChildren{});
}

SupervisorStats Supervisor::stats(Duration timeout) {
  if (running()) {
    auto r = ask<SupervisorStats>(*node_, pid_, *box_, timeout, request::Stats{});
    if (r) return r.value();
  }
  if (auto final = box_->final_stats()) return *final;
  SupervisorStats s;
  s.health = "stopped";
  return s;
}

Result<bool> Supervisor::stop(Duration timeout) {
  if (!running()) return true;  // idempotent, like Node::stop
  auto r = node_->stop_process(pid_, ExitReason::shutdown(), timeout);
  // Gone already, or stopped with another reason (it gave up meanwhile): stopped.
  if (!r && (r.error().code == Errc::no_process || r.error().code == Errc::process_crashed)) return true;
  return r;
}

Result<StartedChild> LocalStarter::start(Node& node, const ChildStart&, const ChildSpec& spec,
                                         const SpawnOptions& here) {
  auto pid = node.spawn(spec.behavior, spec.args, here);
  if (!pid) return pid.error();
  return StartedChild{pid.value(), node.id()};
}

Result<Supervisor> start_supervisor_with(const std::shared_ptr<Node>& node, SupervisorSpec spec,
                                         std::shared_ptr<ChildStarter> starter, const SpawnOptions& opts) {
  if (auto ok = validate(spec); !ok) return ok.error();
  auto box = std::make_shared<RequestBox>();
  auto pid = spawn_supervisor(*node, std::move(spec), box, opts, std::move(starter));
  if (!pid) {
    // A child that could not be spawned at all (no such behavior, no live
    // node) is reported as that error; one whose init failed stays an
    // init failure of the supervisor, as OTP's {shutdown, failed_to_start_child}.
    auto child = box->start_error();
    if (child && child->code != make_error_code(Errc::init_failed)) return *child;
    return pid.error();
  }
  return Supervisor(node, pid.value(), box);
}

Result<Supervisor> start_supervisor(const std::shared_ptr<Node>& node, SupervisorSpec spec, const SpawnOptions& opts) {
  return start_supervisor_with(node, std::move(spec), nullptr, opts);
}

}  // namespace noexpp::sup
