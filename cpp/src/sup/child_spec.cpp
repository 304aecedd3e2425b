#include "noexpp/sup/child_spec.hpp"

#include <array>
#include <set>
#include <utility>

namespace noexpp::sup {
namespace {

// One name table per enum: to_string and parse read the same rows.
constexpr std::array<std::pair<Strategy, const char*>, 4> kStrategies{{
    {Strategy::one_for_one, "one_for_one"},
    {Strategy::one_for_all, "one_for_all"},
    {Strategy::rest_for_one, "rest_for_one"},
    {Strategy::simple_one_for_one, "simple_one_for_one"},
}};
constexpr std::array<std::pair<RestartType, const char*>, 3> kRestartTypes{{
    {RestartType::permanent, "permanent"},
    {RestartType::transient, "transient"},
    {RestartType::temporary, "temporary"},
}};
constexpr std::array<std::pair<AutoShutdown, const char*>, 3> kAutoShutdowns{{
    {AutoShutdown::never, "never"},
    {AutoShutdown::any_significant, "any_significant"},
    {AutoShutdown::all_significant, "all_significant"},
}};
constexpr std::array<std::pair<Directive, const char*>, 4> kDirectives{{
    {Directive::resume, "resume"},
    {Directive::restart, "restart"},
    {Directive::stop, "stop"},
    {Directive::escalate, "escalate"},
}};

template <class E, std::size_t N>
const char* name_of(const std::array<std::pair<E, const char*>, N>& table, E value) {
  for (auto& [v, n] : table)
    if (v == value) return n;
  return "?";
}

template <class E, std::size_t N>
std::optional<E> parse(const std::array<std::pair<E, const char*>, N>& table, std::string_view s) {
  for (auto& [v, n] : table)
    if (s == n) return v;
  return std::nullopt;
}

Error invalid(std::string what) { return Error{Errc::invalid_argument, std::move(what)}; }

}  // namespace

const char* to_string(Strategy s) { return name_of(kStrategies, s); }
const char* to_string(RestartType r) { return name_of(kRestartTypes, r); }
const char* to_string(AutoShutdown a) { return name_of(kAutoShutdowns, a); }
const char* to_string(Directive d) { return name_of(kDirectives, d); }
std::optional<Strategy> parse_strategy(std::string_view s) { return parse(kStrategies, s); }
std::optional<RestartType> parse_restart_type(std::string_view s) { return parse(kRestartTypes, s); }
std::optional<AutoShutdown> parse_auto_shutdown(std::string_view s) { return parse(kAutoShutdowns, s); }
std::optional<Directive> parse_directive(std::string_view s) { return parse(kDirectives, s); }

Duration ChildSpec::shutdown_time() const {
  if (shutdown) return *shutdown;
  return is_supervisor() ? kShutdownInfinity : std::chrono::seconds(5);
}

Result<bool> validate(const ChildSpec& child, AutoShutdown auto_shutdown) {
  // An id names the child in every report, request and event: "" names none.
  if (child.id.empty()) return invalid("a child needs a non-empty id");
  const std::string who = "child '" + child.id + "'";
  if (!child.is_supervisor() && !child.behavior) return invalid(who + " has no behavior to start");
  if (child.shutdown && *child.shutdown < Duration::zero()) return invalid(who + ": shutdown must be >= 0");
  if (child.significant && child.restart == RestartType::permanent)
    return invalid(who + ": a significant child must be transient or temporary, not permanent");
  if (child.significant && auto_shutdown == AutoShutdown::never)
    return invalid(who + ": significant children need auto_shutdown any_significant or all_significant");
  if (child.is_supervisor()) {  // a nested tree is checked before anything starts
    auto nested = validate(*child.supervisor);
    if (!nested) return Error{nested.error().code, who + " (a supervisor): " + nested.error().detail};
  }
  return true;
}

Result<bool> validate(const SupervisorSpec& spec) {
  if (spec.max_restarts < 0) return invalid("max_restarts must be >= 0");
  if (spec.within <= Duration::zero()) return invalid("within must be > 0 seconds");
  if (spec.within == kInfinity) return invalid("within must be a finite number of seconds");
  const auto& b = spec.backoff;
  if (b.initial < Duration::zero() || b.max < b.initial) return invalid("backoff needs 0 <= initial <= max");
  if (b.factor < 1.0) return invalid("backoff factor must be >= 1");
  if (b.jitter < 0.0 || b.jitter >= 1.0) return invalid("backoff jitter must be in [0, 1)");
  if (spec.strategy == Strategy::simple_one_for_one) {
    if (!spec.children.empty())
      return Error{SupErrc::invalid_simple_one_for_one,
                   "simple_one_for_one takes no static children (got " + std::to_string(spec.children.size()) +
                       "); give child_template and use start_child(args)"};
    if (!spec.child_template)
      return Error{SupErrc::missing_child_template, "simple_one_for_one needs a child_template"};
    if (spec.child_template->significant)
      return invalid("simple_one_for_one children cannot be significant");
    if (spec.auto_shutdown != AutoShutdown::never)  // OTP refuses it too
      return invalid("simple_one_for_one supervisors cannot have auto_shutdown (its children cannot be significant)");
    return validate(*spec.child_template, spec.auto_shutdown);
  }
  std::set<std::string> ids;
  for (auto& c : spec.children) {
    if (!ids.insert(c.id).second) return Error{SupErrc::duplicate_child, "duplicate child id '" + c.id + "'"};
    if (auto ok = validate(c, spec.auto_shutdown); !ok) return ok;
  }
  return true;
}

}  // namespace noexpp::sup
