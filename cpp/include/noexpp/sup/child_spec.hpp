#pragma once
/// What a supervisor is told to run: child specs and the supervisor spec
/// (DESIGN §5). Plain data; supervisor.hpp runs it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "noexpp/behavior.hpp"
#include "noexpp/error.hpp"
#include "noexpp/exit_reason.hpp"
#include "noexpp/term.hpp"
#include "noexpp/sup/backoff.hpp"
#include "noexpp/sup/errors.hpp"

namespace noexpp {
class Node;
}

namespace noexpp::sup {

class ChildStarter;  // sup/internal/child_starter.hpp: how a supervisor starts its workers
/// Makes the starter of one run of a supervisor on `node` (a distributed
/// supervisor's places children on the cluster's nodes); an error fails
/// that supervisor's start.
using StarterFactory = std::function<Result<std::shared_ptr<ChildStarter>>(Node& node)>;

enum class Strategy : std::uint8_t { one_for_one, one_for_all, rest_for_one, simple_one_for_one };
/// permanent: always restarted; transient: only after an abnormal exit;
/// temporary: never.
enum class RestartType : std::uint8_t { permanent, transient, temporary };
/// When significant children end the supervisor (OTP 24's auto_shutdown).
enum class AutoShutdown : std::uint8_t { never, any_significant, all_significant };
/// A decider's answer to a child's crash (Akka's directives).
enum class Directive : std::uint8_t {
  resume,    ///< swallow the error: the child keeps its state and goes on
  restart,   ///< the usual rule: restart as the child's restart type says
  stop,      ///< the child stays down and is removed from the supervisor
  escalate,  ///< the supervisor fails, as if its restart intensity were exceeded
};

const char* to_string(Strategy s);
const char* to_string(RestartType r);
const char* to_string(AutoShutdown a);
const char* to_string(Directive d);
std::optional<Strategy> parse_strategy(std::string_view s);
std::optional<RestartType> parse_restart_type(std::string_view s);
std::optional<AutoShutdown> parse_auto_shutdown(std::string_view s);
std::optional<Directive> parse_directive(std::string_view s);

/// Shutdown time meaning "wait as long as it takes" (OTP's infinity), the
/// default for supervisor children. Zero means brutal kill.
inline constexpr Duration kShutdownInfinity = kInfinity;
inline constexpr Duration kBrutalKill = Duration::zero();

struct SupervisorSpec;

/// One child: how to start it and how to treat its exits.
struct ChildSpec {
  std::string id;
  /// A worker: a fresh behavior per start, started with `args`.
  BehaviorFactory behavior;
  /// Shown in which_children and logs ("counter", a Python class name, ...).
  std::string behavior_name;
  Term args = Term::list({});
  /// A nested supervisor instead of a worker (`behavior` is then unused).
  std::shared_ptr<const SupervisorSpec> supervisor;
  RestartType restart = RestartType::permanent;
  /// Time between the shutdown request and a kill; kBrutalKill kills at
  /// once. Defaults to 5 s for workers and infinity for supervisors.
  std::optional<Duration> shutdown;
  /// With auto_shutdown, this child's own exit may end the supervisor.
  bool significant = false;
  /// Registers the child locally under this name ("" = none).
  std::string name;
  /// An opaque value of whoever made the spec (the bindings keep the Python
  /// ChildSpec here); get_childspec hands it back. The engine never reads it.
  std::shared_ptr<const void> user_data;
  /// Where a distributed supervisor places the child (its node selector, a
  /// dist::NodeSelector); none: the supervisor's own selector. A local
  /// supervisor never reads it.
  std::shared_ptr<const void> placement;

  bool is_supervisor() const { return supervisor != nullptr; }
  Duration shutdown_time() const;
};

/// Asked when a child's handler raises, on the child's thread; returns what
/// to do. It sees the child id and the error (type and message).
using Decider = std::function<Directive(const std::string& child_id, const ExitReason& reason)>;

struct SupervisorSpec {
  Strategy strategy = Strategy::one_for_one;
  /// More than max_restarts restarts within `within` stops the supervisor.
  int max_restarts = 3;
  Duration within = std::chrono::seconds(5);
  Backoff backoff;
  Decider decider;  ///< empty: every crash is "restart"
  AutoShutdown auto_shutdown = AutoShutdown::never;
  std::vector<ChildSpec> children;  ///< started in this order, stopped in reverse
  /// simple_one_for_one: the spec every child is started from; start_child's
  /// arguments are appended to its args.
  std::optional<ChildSpec> child_template;
  /// Registers the supervisor locally under this name; also names it in events.
  std::string name;
  /// How its workers are started, made anew at each (re)start; empty: on
  /// its own node. Set by dist::to_supervisor_spec, so that a distributed
  /// supervisor can also be the child of another supervisor.
  StarterFactory starter;
};

/// Checks a child spec on its own (id, start function, significant vs
/// restart type). Errc::invalid_argument names what is wrong.
Result<bool> validate(const ChildSpec& child, AutoShutdown auto_shutdown);
/// Checks a supervisor spec as OTP's supervisor does before starting:
/// duplicate ids, simple_one_for_one rules, intensity values, every child.
Result<bool> validate(const SupervisorSpec& spec);

}  // namespace noexpp::sup
