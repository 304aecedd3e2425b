#pragma once
// The supervisor process: a GenServer that traps exits and links to its
// children. It receives tagged requests from its handles (requests.hpp),
// the EXITs of its children and its own restart messages, asks the pure
// restart plan (restart_plan.hpp) what each event means, and applies it.
#include <list>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "noexpp/behavior.hpp"
#include "noexpp/sup/supervisor.hpp"
#include "sup/child_record.hpp"
#include "sup/internal/child_starter.hpp"
#include "sup/requests.hpp"
#include "sup/restart_plan.hpp"

namespace noexpp::sup {

class SupervisorServer : public GenServer {
 public:
  SupervisorServer(SupervisorSpec spec, std::shared_ptr<RequestBox> box, Pid parent,
                   std::shared_ptr<ChildStarter> starter);

  void init(const Term& args) override;
  CallReply handle_call(const Term& request, const From& from) override;
  void handle_info(const Info& info) override;
  void terminate(const ExitReason& reason) override;
  std::string behavior_name() const override { return "supervisor"; }

 private:
  using Records = std::list<ChildRecord>;
  using Iter = Records::iterator;

  // ---- requests from handles ----
  Reply handle(request::StartChild& r);
  Reply handle(request::StartTemplateChild& r);
  Reply handle(request::TerminateChild& r);
  Reply handle(request::TerminateChildPid& r);
  Reply handle(request::RestartChild& r);
  Reply handle(request::DeleteChild& r);
  Reply handle(request::WhichChildren& r);
  Reply handle(request::CountChildren& r);
  Reply handle(request::Stats& r);
  Reply handle(request::ChildSupervisor& r);
  Reply handle(request::GetChildSpec& r);
  Reply handle(request::GetChildSpecPid& r);

  // ---- events, through the plan ----
  void on_child_exit(Iter it, const ExitReason& reason);
  /// Child `it` was lost with its node (ChildStarter::lost_with_node): it
  /// comes back elsewhere after `wait`, not counted. With `whole_node` (the
  /// node was found down, not leaving) every child that ran there goes with it.
  void on_node_lost(Iter it, const ExitReason& reason, Duration wait, bool whole_node);
  bool distributed() const { return starter_->distributed(); }
  void on_restart_due(std::uint64_t key, std::uint64_t token, bool counted);
  /// Applies `p`; `cause` (the child whose event it was) names events and logs.
  void apply(const plan::Plan& p, const std::string& cause_id, const ExitReason& cause);
  plan::Supervisor view() const;
  SupervisorStats stats() const;

  // ---- children ----
  /// Spawns the child of `rec` linked to this supervisor; sets pid and times.
  Result<Pid> start(ChildRecord& rec);
  /// Stops a running child (orderly, then kill) and emits child_stopped.
  void stop_running(ChildRecord& rec);
  /// Stops every running child, newest first (simple_one_for_one: all at once).
  void stop_all();
  /// Records that `rec`'s process is gone (exited or stopped by us).
  void mark_stopped(ChildRecord& rec);
  /// A `restarting` child's RestartDue after `delay` (zero: a message to self).
  void schedule_restart(ChildRecord& rec, Duration delay, bool counted);
  Iter find_id(const std::string& id);
  Iter find_pid(Pid pid);
  Iter find_key(std::uint64_t key);
  /// simple_one_for_one: a child by its pid, or by the pid it last ran as
  /// while it waits to restart.
  Iter find_simple_child(Pid pid);
  Iter add_record(ChildSpec spec);
  /// After a start: true if the child answered ignore (it is then kept as
  /// not running, or forgotten when temporary or simple_one_for_one's).
  bool ignored(Iter it);
  void forget(Iter it);

  void give_up(const std::string& why, std::error_code error);
  void emit(const char* type, std::vector<std::pair<Term, Term>> fields);
  void emit_started(const ChildRecord& rec);
  std::string label() const;
  bool is_simple() const { return spec_.strategy == Strategy::simple_one_for_one; }
  double unit_random();
  std::chrono::steady_clock::time_point now() const { return box_->now(); }

  SupervisorSpec spec_;
  std::shared_ptr<RequestBox> box_;
  Pid parent_;
  std::shared_ptr<ChildStarter> starter_;
  std::uint64_t epoch_ = 0;  ///< grows with every start (ChildStarter::start)
  std::uint64_t node_failure_restarts_ = 0;
  Records children_;
  std::unordered_map<Pid, Iter, PidHash> by_pid_;
  std::unordered_map<std::uint64_t, Iter> by_key_;
  std::unordered_map<std::string, Iter> by_id_;  // not simple_one_for_one: ids are unique
  std::uint64_t next_key_ = 1;
  std::uint64_t next_restart_token_ = 1;
  std::deque<plan::TimePoint> restarts_;  ///< counted restarts (the intensity window)
  std::uint64_t total_restarts_ = 0;
  std::chrono::steady_clock::time_point started_{};
  bool stopped_ = false;
  std::string stop_reason_;
  std::error_code stop_error_;
  std::mt19937_64 rng_{std::random_device{}()};
};

/// Spawns a supervisor process for `spec` (validated by the caller).
/// `starter` starts its workers (null: on this node, LocalStarter).
Result<Pid> spawn_supervisor(Node& node, SupervisorSpec spec, std::shared_ptr<RequestBox> box, const SpawnOptions& opts,
                             std::shared_ptr<ChildStarter> starter = nullptr);

}  // namespace noexpp::sup
