#pragma once
// The supervisor process: a GenServer that traps exits, links to its
// children and applies the spec's strategy to their exits.
#include <list>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "child_record.hpp"
#include "noexpp/core/behavior.hpp"
#include "noexpp/sup/restart_intensity.hpp"
#include "noexpp/sup/supervisor.hpp"
#include "supervisor_state.hpp"

namespace noexpp::sup {

class SupervisorServer : public GenServer {
 public:
  SupervisorServer(SupervisorSpec spec, std::shared_ptr<SupervisorState> state, Pid parent);

  void init(const Term& args) override;
  CallReply handle_call(const Term& request, const From& from) override;
  void handle_info(const Info& info) override;
  void terminate(const ExitReason& reason) override;
  std::string behavior_name() const override { return "supervisor"; }

  // ---- requests from a Supervisor handle (run in this process) ----
  Result<Pid> add_child(ChildSpec spec);
  Result<Pid> add_template_child(const Term& extra_args);
  Result<bool> terminate_child(const std::string& id);
  Result<bool> terminate_child(Pid pid);
  Result<Pid> restart_child(const std::string& id);
  Result<bool> delete_child(const std::string& id);
  Result<Supervisor> child_supervisor(const std::string& id);
  std::vector<ChildInfo> which_children() const;
  ChildCounts count_children() const;
  SupervisorStats stats();

 private:
  using Records = std::list<ChildRecord>;
  using Iter = Records::iterator;

  /// Spawns the child of `rec` linked to this supervisor; sets pid and times.
  Result<Pid> start(ChildRecord& rec);
  /// Stops a running child (orderly, then kill) and emits child_stopped.
  void stop_running(ChildRecord& rec);
  /// Stops every running child, newest first (simple_one_for_one: all at once).
  void stop_all();
  Iter find_id(const std::string& id);
  Iter find_pid(Pid pid);
  Iter find_key(std::uint64_t key);
  /// Appends a record (not started) for `spec`.
  Iter add_record(ChildSpec spec);
  void forget(Iter it);

  void on_child_exit(Iter it, const ExitReason& reason);
  /// The children a restart of `failed` takes down and brings back, in start order.
  std::vector<Iter> restart_group(Iter failed);
  /// Starts the pending children of `keys` in start order; retries on
  /// failure. A nonzero `token` (from a restart message) skips children
  /// whose wait a newer schedule_restart owns.
  void restart_pending(const std::vector<std::uint64_t>& keys, std::uint64_t token = 0);
  /// Starts `keys` after `delay` (a timer message to self), so the
  /// supervisor serves calls and other children meanwhile; with no delay,
  /// at once if `inline_ok`, else through a message to self.
  void schedule_restart(const std::vector<std::uint64_t>& keys, Duration delay, bool inline_ok);
  /// Counts a restart; false (and the supervisor is stopping) when too many.
  bool count_restart(const ChildRecord& rec, const ExitReason& reason);
  double unit_random();
  void give_up(const std::string& why, Errc error);
  void check_auto_shutdown();

  void emit(const char* type, std::vector<std::pair<Term, Term>> fields);
  std::string label() const;
  bool is_simple() const { return spec_.strategy == Strategy::simple_one_for_one; }

  SupervisorSpec spec_;
  std::shared_ptr<SupervisorState> state_;
  Pid parent_;
  Records children_;
  std::unordered_map<Pid, Iter, PidHash> by_pid_;
  std::unordered_map<std::uint64_t, Iter> by_key_;
  std::uint64_t next_key_ = 1;
  std::uint64_t next_restart_token_ = 1;
  RestartIntensity intensity_;
  std::uint64_t total_restarts_ = 0;
  std::chrono::steady_clock::time_point started_{};
  bool stopped_ = false;
  std::string stop_reason_;
  Errc stop_error_ = Errc::ok;
  std::mt19937_64 rng_{std::random_device{}()};
};

/// Spawns a supervisor process for `spec` (validated by the caller).
Result<Pid> spawn_supervisor(Node& node, SupervisorSpec spec, std::shared_ptr<SupervisorState> state,
                             const SpawnOptions& opts);

}  // namespace noexpp::sup
