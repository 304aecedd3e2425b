// The pure parts of supervision, without a node: the restart table,
// restart intensity over explicit time points, backoff delays, spec
// validation and the enum names.
#include "sup/restart_plan.hpp"

#include "sup_test_support.hpp"

namespace noexpp::test {
namespace {

using Clock = std::chrono::steady_clock;
/// The restart intensity rule as the plan keeps it: a window of counted
/// restarts (supervisor.erl's add_restart).
class RestartIntensity {
 public:
  RestartIntensity(int max_restarts, Duration within) : max_(max_restarts), within_(within) {}
  bool add(Clock::time_point now) { return sup::plan::count_restart(restarts_, max_, within_, now); }
  int recent(Clock::time_point now) const { return sup::plan::recent_restarts(restarts_, within_, now); }

 private:
  int max_;
  Duration within_;
  std::deque<Clock::time_point> restarts_;
};

/// A delay in milliseconds: Backoff computes in double seconds, so compare
/// with EXPECT_NEAR rather than exact nanoseconds.
double ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
constexpr double kEps = 1e-3;  // ms

std::vector<ExitReason> not_abnormal_reasons() {
  return {ExitReason::normal(), ExitReason::shutdown(), ExitReason::shutdown_with("done")};
}
std::vector<ExitReason> abnormal_reasons() {
  return {ExitReason::killed(), ExitReason::noproc(), ExitReason::noconnection(),
          ExitReason::error("std::runtime_error", "boom"), ExitReason::other("bye")};
}

// ---- should_restart ----------------------------------------------------------

TEST(RestartDecision, permanent_restarts_after_any_exit) {
  for (auto& r : not_abnormal_reasons()) EXPECT_TRUE(sup::plan::should_restart(RestartType::permanent, r)) << r.to_string();
  for (auto& r : abnormal_reasons()) EXPECT_TRUE(sup::plan::should_restart(RestartType::permanent, r)) << r.to_string();
}

TEST(RestartDecision, transient_restarts_only_after_abnormal_exit) {
  for (auto& r : not_abnormal_reasons()) EXPECT_FALSE(sup::plan::should_restart(RestartType::transient, r)) << r.to_string();
  for (auto& r : abnormal_reasons()) EXPECT_TRUE(sup::plan::should_restart(RestartType::transient, r)) << r.to_string();
}

TEST(RestartDecision, temporary_never_restarts) {
  for (auto& r : not_abnormal_reasons()) EXPECT_FALSE(sup::plan::should_restart(RestartType::temporary, r)) << r.to_string();
  for (auto& r : abnormal_reasons()) EXPECT_FALSE(sup::plan::should_restart(RestartType::temporary, r)) << r.to_string();
}

// ---- RestartIntensity --------------------------------------------------------

TEST(RestartIntensityRule, allows_max_restarts_then_refuses_one_more) {
  RestartIntensity ri(3, std::chrono::seconds(5));
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(ri.add(t0));
  EXPECT_TRUE(ri.add(t0 + 1s));
  EXPECT_TRUE(ri.add(t0 + 2s));
  EXPECT_EQ(ri.recent(t0 + 2s), 3);
  EXPECT_FALSE(ri.add(t0 + 3s));
}

TEST(RestartIntensityRule, zero_max_restarts_refuses_the_first) {
  RestartIntensity ri(0, std::chrono::seconds(5));
  EXPECT_FALSE(ri.add(Clock::time_point{} + 1s));
}

TEST(RestartIntensityRule, restarts_older_than_the_period_are_forgotten) {
  RestartIntensity ri(2, std::chrono::seconds(5));
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(ri.add(t0));
  EXPECT_TRUE(ri.add(t0 + 1s));
  EXPECT_EQ(ri.recent(t0 + 4s), 2);
  EXPECT_EQ(ri.recent(t0 + 5500ms), 1);  // t0 left the window
  EXPECT_TRUE(ri.add(t0 + 5500ms));      // so this is restart 2 of the window, not 3
  EXPECT_FALSE(ri.add(t0 + 5600ms));
  EXPECT_EQ(ri.recent(t0 + 60s), 0);
}

TEST(RestartIntensityRule, window_bounds_are_included) {
  RestartIntensity ri(1, std::chrono::seconds(5));
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_TRUE(ri.add(t0));
  EXPECT_EQ(ri.recent(t0 + 5s), 1);  // exactly `within` old: still counted (OTP)
  EXPECT_FALSE(ri.add(t0 + 5s));
  EXPECT_EQ(ri.recent(t0 + 5s + 1ns), 1);
  EXPECT_EQ(ri.recent(t0 + 10s + 1ns), 0);
}

TEST(RestartIntensityRule, spread_out_restarts_never_exceed) {
  RestartIntensity ri(1, std::chrono::seconds(1));
  auto t = Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 20; ++i, t += 1001ms) EXPECT_TRUE(ri.add(t)) << "restart " << i;
}

// ---- Backoff -------------------------------------------------------------------

TEST(BackoffRule, disabled_by_default_restarts_at_once) {
  Backoff b;
  EXPECT_FALSE(b.enabled());
  for (int attempt : {0, 1, 2, 10}) EXPECT_EQ(b.delay(attempt, 0.5), Duration::zero());
}

TEST(BackoffRule, delay_grows_by_factor_per_attempt) {
  Backoff b{.initial = 50ms, .max = 10s, .factor = 2.0};
  EXPECT_TRUE(b.enabled());
  EXPECT_NEAR(ms(b.delay(1, 0.5)), 50, kEps);
  EXPECT_NEAR(ms(b.delay(2, 0.5)), 100, kEps);
  EXPECT_NEAR(ms(b.delay(3, 0.5)), 200, kEps);
  EXPECT_NEAR(ms(b.delay(4, 0.5)), 400, kEps);
  EXPECT_NEAR(ms(b.delay(0, 0.5)), 50, kEps);  // attempts below 1 count as the first
  Backoff triple{.initial = 10ms, .max = 10s, .factor = 3.0};
  EXPECT_NEAR(ms(triple.delay(3, 0.5)), 90, kEps);
}

TEST(BackoffRule, delay_is_capped_at_max) {
  Backoff b{.initial = 50ms, .max = 300ms, .factor = 2.0};
  EXPECT_NEAR(ms(b.delay(3, 0.5)), 200, kEps);
  EXPECT_NEAR(ms(b.delay(4, 0.5)), 300, kEps);
  EXPECT_NEAR(ms(b.delay(50, 0.5)), 300, kEps);
  EXPECT_NEAR(ms(b.delay(100000, 0.5)), 300, kEps);  // no overflow far out
}

TEST(BackoffRule, jitter_scales_within_its_range) {
  Backoff b{.initial = 100ms, .max = 10s, .factor = 2.0, .jitter = 0.25};
  EXPECT_NEAR(ms(b.delay(1, 0.0)), 75, 0.01);    // 1 - jitter
  EXPECT_NEAR(ms(b.delay(1, 0.5)), 100, 0.01);   // middle
  EXPECT_NEAR(ms(b.delay(1, 0.999999)), 125, 0.01);  // just under 1 + jitter
  EXPECT_NEAR(ms(b.delay(2, 0.0)), 150, 0.01);
  for (int i = 0; i <= 100; ++i) {
    const double u = i / 101.0;
    const double d = ms(b.delay(3, u));  // 400 ms +- 25%
    EXPECT_GE(d, 300 - kEps) << u;
    EXPECT_LT(d, 500) << u;
  }
  // Jitter applies after the cap.
  Backoff capped{.initial = 100ms, .max = 200ms, .factor = 2.0, .jitter = 0.5};
  EXPECT_NEAR(ms(capped.delay(10, 0.0)), 100, 0.01);
  EXPECT_NEAR(ms(capped.delay(10, 0.999999)), 300, 0.01);
}

TEST(BackoffRule, reset_period_defaults_to_max) {
  Backoff b{.initial = 10ms, .max = 2s};
  EXPECT_EQ(b.reset_period(), Duration(2s));
  b.reset_after = 30s;
  EXPECT_EQ(b.reset_period(), Duration(30s));
}

// ---- validate ----------------------------------------------------------------

ChildSpec plain_child(std::string id) {
  ChildSpec c;
  c.id = std::move(id);
  c.behavior = fn_server({});
  return c;
}

SupervisorSpec two_children() {
  SupervisorSpec s;
  s.children = {plain_child("a"), plain_child("b")};
  return s;
}

TEST(ValidateSpec, a_well_formed_spec_passes) {
  auto r = sup::validate(two_children());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r.value());
}

TEST(ValidateSpec, duplicate_child_ids) {
  auto s = two_children();
  s.children.push_back(plain_child("a"));
  auto r = sup::validate(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, sup::SupErrc::duplicate_child);
  EXPECT_NE(r.error().detail.find("'a'"), std::string::npos) << r.error().detail;
}

TEST(ValidateSpec, child_without_behavior) {
  auto s = two_children();
  s.children[1].behavior = nullptr;
  auto r = sup::validate(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_NE(r.error().detail.find("'b'"), std::string::npos) << r.error().detail;
}

TEST(ValidateSpec, nested_supervisor_child_needs_no_behavior) {
  auto s = two_children();
  ChildSpec nested;
  nested.id = "nested";
  nested.supervisor = std::make_shared<SupervisorSpec>(two_children());
  s.children.push_back(nested);
  EXPECT_TRUE(sup::validate(s).ok());
}

TEST(ValidateSpec, negative_shutdown) {
  auto c = plain_child("a");
  c.shutdown = -1ms;
  auto r = sup::validate(c, AutoShutdown::never);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  c.shutdown = sup::kBrutalKill;
  EXPECT_TRUE(sup::validate(c, AutoShutdown::never).ok());
}

TEST(ValidateSpec, intensity_values) {
  auto s = two_children();
  s.max_restarts = -1;
  EXPECT_EQ(sup::validate(s).error().code, Errc::invalid_argument);
  s.max_restarts = 0;
  EXPECT_TRUE(sup::validate(s).ok());
  s.within = Duration::zero();
  EXPECT_EQ(sup::validate(s).error().code, Errc::invalid_argument);
  s.within = -1s;
  EXPECT_EQ(sup::validate(s).error().code, Errc::invalid_argument);
}

TEST(ValidateSpec, backoff_values) {
  const auto check = [](Backoff b) {
    auto s = two_children();
    s.backoff = b;
    return sup::validate(s);
  };
  EXPECT_TRUE(check(Backoff{.initial = 10ms, .max = 1s, .factor = 2.0, .jitter = 0.5}).ok());
  EXPECT_EQ(check(Backoff{.initial = -1ms}).error().code, Errc::invalid_argument);
  EXPECT_EQ(check(Backoff{.initial = 2s, .max = 1s}).error().code, Errc::invalid_argument);
  EXPECT_EQ(check(Backoff{.initial = 10ms, .max = 1s, .factor = 0.5}).error().code, Errc::invalid_argument);
  EXPECT_EQ(check(Backoff{.initial = 10ms, .max = 1s, .factor = 2, .jitter = -0.1}).error().code,
            Errc::invalid_argument);
  EXPECT_EQ(check(Backoff{.initial = 10ms, .max = 1s, .factor = 2, .jitter = 1.0}).error().code,
            Errc::invalid_argument);
}

TEST(ValidateSpec, significant_child_must_not_be_permanent) {
  auto c = plain_child("a");
  c.significant = true;
  c.restart = RestartType::permanent;
  auto r = sup::validate(c, AutoShutdown::any_significant);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  c.restart = RestartType::transient;
  EXPECT_TRUE(sup::validate(c, AutoShutdown::any_significant).ok());
  c.restart = RestartType::temporary;
  EXPECT_TRUE(sup::validate(c, AutoShutdown::all_significant).ok());
}

TEST(ValidateSpec, significant_child_needs_auto_shutdown) {
  auto s = two_children();
  s.children[0].significant = true;
  s.children[0].restart = RestartType::transient;
  s.auto_shutdown = AutoShutdown::never;
  auto r = sup::validate(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  s.auto_shutdown = AutoShutdown::any_significant;
  EXPECT_TRUE(sup::validate(s).ok());
}

TEST(ValidateSpec, simple_one_for_one_with_static_children) {
  auto s = two_children();
  s.strategy = Strategy::simple_one_for_one;
  s.child_template = plain_child("t");
  auto r = sup::validate(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, sup::SupErrc::invalid_simple_one_for_one);
}

TEST(ValidateSpec, simple_one_for_one_without_template) {
  SupervisorSpec s;
  s.strategy = Strategy::simple_one_for_one;
  auto r = sup::validate(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, sup::SupErrc::missing_child_template);
  s.child_template = plain_child("t");
  EXPECT_TRUE(sup::validate(s).ok());
}

TEST(ValidateSpec, simple_one_for_one_template_is_checked) {
  SupervisorSpec s;
  s.strategy = Strategy::simple_one_for_one;
  s.child_template = plain_child("t");
  s.child_template->behavior = nullptr;
  EXPECT_EQ(sup::validate(s).error().code, Errc::invalid_argument);
  s.child_template = plain_child("t");
  s.child_template->significant = true;
  s.child_template->restart = RestartType::transient;
  s.auto_shutdown = AutoShutdown::any_significant;
  EXPECT_EQ(sup::validate(s).error().code, Errc::invalid_argument);
}

TEST(ValidateSpec, shutdown_time_defaults) {
  auto w = plain_child("w");
  EXPECT_EQ(w.shutdown_time(), Duration(5s));
  w.shutdown = 250ms;
  EXPECT_EQ(w.shutdown_time(), Duration(250ms));
  w.shutdown = sup::kBrutalKill;
  EXPECT_EQ(w.shutdown_time(), Duration::zero());
  ChildSpec s;
  s.id = "s";
  s.supervisor = std::make_shared<SupervisorSpec>();
  EXPECT_EQ(s.shutdown_time(), sup::kShutdownInfinity);
}

// ---- names ---------------------------------------------------------------------

TEST(EnumNames, strategy_round_trip) {
  for (auto s : {Strategy::one_for_one, Strategy::one_for_all, Strategy::rest_for_one, Strategy::simple_one_for_one})
    EXPECT_EQ(sup::parse_strategy(sup::to_string(s)), s);
  EXPECT_STREQ(sup::to_string(Strategy::rest_for_one), "rest_for_one");
  EXPECT_EQ(sup::parse_strategy("one_for_none"), std::nullopt);
  EXPECT_EQ(sup::parse_strategy(""), std::nullopt);
}

TEST(EnumNames, restart_type_round_trip) {
  for (auto r : {RestartType::permanent, RestartType::transient, RestartType::temporary})
    EXPECT_EQ(sup::parse_restart_type(sup::to_string(r)), r);
  EXPECT_STREQ(sup::to_string(RestartType::transient), "transient");
  EXPECT_EQ(sup::parse_restart_type("Permanent"), std::nullopt);
}

TEST(EnumNames, auto_shutdown_round_trip) {
  for (auto a : {AutoShutdown::never, AutoShutdown::any_significant, AutoShutdown::all_significant})
    EXPECT_EQ(sup::parse_auto_shutdown(sup::to_string(a)), a);
  EXPECT_STREQ(sup::to_string(AutoShutdown::all_significant), "all_significant");
  EXPECT_EQ(sup::parse_auto_shutdown("always"), std::nullopt);
}

TEST(EnumNames, directive_round_trip) {
  for (auto d : {Directive::resume, Directive::restart, Directive::stop, Directive::escalate})
    EXPECT_EQ(sup::parse_directive(sup::to_string(d)), d);
  EXPECT_STREQ(sup::to_string(Directive::escalate), "escalate");
  EXPECT_EQ(sup::parse_directive("ignore"), std::nullopt);
}

}  // namespace
}  // namespace noexpp::test
