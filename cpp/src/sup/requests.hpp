#pragma once
// The requests a Supervisor handle makes of its supervisor process, as data
// (OTP's supervisor receives {start_child, Spec}, {terminate_child, Id},
// ...), and the box a handle and its process share to pass them: a request
// holds C++ values (a ChildSpec's factory) that no Term can carry, so the
// handle parks it here and calls the process with its token.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "noexpp/sup/supervisor.hpp"

namespace noexpp::sup {

namespace request {
struct StartChild { ChildSpec spec; };
struct StartTemplateChild { Term args; };  ///< simple_one_for_one
struct TerminateChild { std::string id; };
struct TerminateChildPid { Pid pid; };
struct RestartChild { std::string id; };
struct DeleteChild { std::string id; };
struct WhichChildren {};
struct CountChildren {};
struct Stats {};
struct ChildSupervisor { std::string id; };
struct GetChildSpec { std::string id; };
struct GetChildSpecPid { Pid pid; };
}  // namespace request

using Request = std::variant<request::StartChild, request::StartTemplateChild, request::TerminateChild,
                             request::TerminateChildPid, request::RestartChild, request::DeleteChild,
                             request::WhichChildren, request::CountChildren, request::Stats,
                             request::ChildSupervisor, request::GetChildSpec, request::GetChildSpecPid>;
using Reply = std::variant<std::monostate, Result<Pid>, Result<bool>, std::vector<ChildInfo>, ChildCounts,
                           SupervisorStats, Result<Supervisor>, Result<ChildSpec>>;

/// Shared by a supervisor process and every handle on it. Thread: any.
class RequestBox {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  /// Parks `r`; the handle then calls the supervisor with the token.
  std::uint64_t post(Request r);
  /// The process takes the request of a token (none if the handle gave up).
  std::optional<Request> take(std::uint64_t token);
  /// The process leaves its reply; the handle takes it after its call returned.
  void answer(std::uint64_t token, Reply r);
  std::optional<Reply> take_reply(std::uint64_t token);
  /// Drops what is left of a token whose call failed.
  void forget(std::uint64_t token);

  /// Set by the process as it stops.
  void set_final(SupervisorStats s);
  std::optional<SupervisorStats> final_stats();
  /// Set by the process when a static child fails to start in init, so
  /// the starter can return that error (BehaviorNotFound, NoAvailableNode)
  /// rather than the supervisor's own failed init.
  void set_start_error(Error e);
  std::optional<Error> start_error();

  /// The supervisor's clock (restart intensity, backoff, uptimes): steady
  /// time unless a test sets its own before the supervisor starts.
  std::chrono::steady_clock::time_point now() const { return clock_ ? clock_() : std::chrono::steady_clock::now(); }
  void set_clock(Clock c) { clock_ = std::move(c); }

 private:
  std::mutex mu_;
  std::uint64_t next_token_ = 1;
  std::unordered_map<std::uint64_t, Request> requests_;
  std::unordered_map<std::uint64_t, Reply> replies_;
  std::optional<SupervisorStats> final_;
  std::optional<Error> start_error_;
  Clock clock_;
};

}  // namespace noexpp::sup
