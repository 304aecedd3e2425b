// The restart plan as tables: one row per strategy and event, each giving
// the children as the supervisor sees them and what the plan must answer.
// No node, no process, no clock: time is a number in the row.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "sup/restart_plan.hpp"

namespace noexpp::sup::plan {
namespace {

using namespace std::chrono_literals;
using Keys = std::vector<std::uint64_t>;

constexpr TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

/// Children from a compact spelling: "a+ b- c~" is a running, b stopped, c
/// restarting (keys 1, 2, 3 in that order). A trailing letter sets the
/// restart type (p default, t transient, T temporary) and '*' marks a
/// significant child: "b-t*".
std::vector<Child> children(const std::string& spec) {
  std::vector<Child> out;
  std::istringstream in(spec);
  std::string word;
  std::uint64_t key = 1;
  while (in >> word) {
    Child c;
    c.key = key++;
    c.started = kT0 - 1s;
    for (char ch : word.substr(1)) {
      switch (ch) {
        case '+': c.state = ChildState::running; break;
        case '-': c.state = ChildState::stopped; break;
        case '~': c.state = ChildState::restarting; break;
        case 't': c.restart = RestartType::transient; break;
        case 'T': c.restart = RestartType::temporary; break;
        case '*': c.significant = true; break;
        default: break;
      }
    }
    out.push_back(c);
  }
  return out;
}

Supervisor sup(Strategy s, const std::string& kids, AutoShutdown a = AutoShutdown::never) {
  Supervisor v;
  v.strategy = s;
  v.auto_shutdown = a;
  v.children = children(kids);
  return v;
}

struct Expect {
  Keys stop = {};
  Keys forget = {};
  Keys start = {};
  std::optional<std::uint64_t> later = std::nullopt;
  Plan::End end = Plan::End::none;
  Keys absorbed = {};
};

void check(const Plan& p, const Expect& e) {
  EXPECT_EQ(p.stop, e.stop);
  EXPECT_EQ(p.forget, e.forget);
  EXPECT_EQ(p.start, e.start);
  EXPECT_EQ(p.restart_later, e.later);
  EXPECT_EQ(static_cast<int>(p.end), static_cast<int>(e.end));
  EXPECT_EQ(p.absorbed, e.absorbed);
}

const ExitReason kCrash = ExitReason::error("RuntimeError", "boom");

// ---- a child's exit, by strategy --------------------------------------------------

struct ExitRow {
  const char* name;
  Strategy strategy;
  const char* kids;  ///< the exited child is shown stopped, as the supervisor records it first
  std::uint64_t exited;
  ExitReason reason;
  Directive directive;
  Expect expect;
};

class ExitTable : public ::testing::TestWithParam<ExitRow> {};

TEST_P(ExitTable, plan) {
  const auto& row = GetParam();
  auto p = on_exit(sup(row.strategy, row.kids), {row.exited, row.reason, row.directive}, kT0, 0.5);
  check(p, row.expect);
}

const Directive kRestart = Directive::restart;

INSTANTIATE_TEST_SUITE_P(
    Strategies, ExitTable,
    ::testing::Values(
        ExitRow{"one_for_one_restarts_the_child_alone", Strategy::one_for_one, "a+ b- c+", 2, kCrash, kRestart,
                {{}, {}, {2}}},
        ExitRow{"one_for_all_stops_the_others_newest_first_and_starts_all", Strategy::one_for_all, "a+ b- c+", 2,
                kCrash, kRestart, {{3, 1}, {}, {1, 2, 3}}},
        ExitRow{"rest_for_one_stops_those_after_it", Strategy::rest_for_one, "a+ b- c+", 2, kCrash, kRestart,
                {{3}, {}, {2, 3}}},
        ExitRow{"rest_for_one_of_the_last_child_is_one_for_one", Strategy::rest_for_one, "a+ b+ c-", 3, kCrash,
                kRestart, {{}, {}, {3}}},
        ExitRow{"simple_one_for_one_restarts_the_child_alone", Strategy::simple_one_for_one, "a+ b- c+", 2, kCrash,
                kRestart, {{}, {}, {2}}},
        ExitRow{"one_for_all_drops_temporary_siblings", Strategy::one_for_all, "a+ b- c+T", 2, kCrash, kRestart,
                {{3, 1}, {3}, {1, 2}}},
        ExitRow{"stopped_siblings_are_not_stopped_again", Strategy::one_for_all, "a- b- c+", 2, kCrash, kRestart,
                {{3}, {}, {1, 2, 3}}}),
    [](const auto& info) { return std::string(info.param.name); });

// OTP's restart table, and the decider's directives.
INSTANTIATE_TEST_SUITE_P(
    RestartTypes, ExitTable,
    ::testing::Values(
        ExitRow{"permanent_normal_exit_restarts", Strategy::one_for_one, "a-", 1, ExitReason::normal(), kRestart,
                {{}, {}, {1}}},
        ExitRow{"transient_normal_exit_stays_down", Strategy::one_for_one, "a-t", 1, ExitReason::normal(), kRestart,
                {{}, {}, {}}},
        ExitRow{"transient_shutdown_exit_stays_down", Strategy::one_for_one, "a-t", 1,
                ExitReason::shutdown_with("done"), kRestart, {{}, {}, {}}},
        ExitRow{"transient_abnormal_exit_restarts", Strategy::one_for_one, "a-t", 1, kCrash, kRestart,
                {{}, {}, {1}}},
        ExitRow{"temporary_is_forgotten_whatever_the_reason", Strategy::one_for_one, "a-T", 1, kCrash, kRestart,
                {{}, {1}, {}}},
        ExitRow{"simple_one_for_one_transient_normal_exit_is_forgotten", Strategy::simple_one_for_one, "a-t", 1,
                ExitReason::normal(), kRestart, {{}, {1}, {}}},
        ExitRow{"directive_stop_forgets_the_child", Strategy::one_for_all, "a+ b-", 2, kCrash, Directive::stop,
                {{}, {2}, {}}},
        ExitRow{"directive_escalate_ends_the_supervisor", Strategy::one_for_one, "a- b+", 1, kCrash,
                Directive::escalate, {{}, {}, {}, std::nullopt, Plan::End::escalated}}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- restart intensity -------------------------------------------------------------

TEST(RestartPlanIntensity, one_restart_too_many_ends_the_supervisor_and_counts_nothing_more) {
  auto s = sup(Strategy::one_for_one, "a-");
  s.max_restarts = 2;
  s.restarts = {kT0 - 2s, kT0 - 1s};
  auto p = on_exit(s, {1, kCrash}, kT0, 0.5);
  check(p, {{}, {}, {}, std::nullopt, Plan::End::intensity_exceeded});
  EXPECT_FALSE(p.counted);
}

TEST(RestartPlanIntensity, restarts_older_than_the_period_do_not_count) {
  auto s = sup(Strategy::one_for_one, "a-");
  s.max_restarts = 1;
  s.within = 5s;
  s.restarts = {kT0 - 6s};
  auto p = on_exit(s, {1, kCrash}, kT0, 0.5);
  check(p, {{}, {}, {1}});
  EXPECT_TRUE(p.counted);
  EXPECT_EQ(p.restarts, (std::deque<TimePoint>{kT0}));
}

TEST(RestartPlanIntensity, a_child_that_stays_down_counts_no_restart) {
  auto p = on_exit(sup(Strategy::one_for_one, "a-t"), {1, ExitReason::normal()}, kT0, 0.5);
  EXPECT_FALSE(p.counted);
  EXPECT_TRUE(p.restarts.empty());
}

// ---- backoff -----------------------------------------------------------------------

TEST(RestartPlanBackoff, a_delay_takes_the_group_down_now_and_brings_it_back_later) {
  auto s = sup(Strategy::rest_for_one, "a+ b- c+");
  s.backoff = Backoff{.initial = 100ms, .max = 1s};
  auto p = on_exit(s, {2, kCrash}, kT0, 0.5);
  check(p, {{3}, {}, {}, 2});
  EXPECT_EQ(p.delay, Duration(100ms));
  EXPECT_TRUE(p.delay_counted);  // the exit counted it already
}

TEST(RestartPlanBackoff, attempts_grow_and_a_healthy_period_starts_over) {
  auto s = sup(Strategy::one_for_one, "a-");
  s.backoff = Backoff{.initial = 100ms, .max = 1s, .factor = 2.0};
  s.children[0].attempt = 2;
  s.children[0].started = kT0 - 10ms;  // came back just now: this is attempt 3
  auto p = on_exit(s, {1, kCrash}, kT0, 0.5);
  EXPECT_EQ(p.delay, Duration(400ms));
  EXPECT_EQ(p.attempts, (std::vector<std::pair<std::uint64_t, int>>{{1, 3}}));
  s.children[0].started = kT0 - 2s;  // up longer than reset_period (max): attempt 1
  p = on_exit(s, {1, kCrash}, kT0, 0.5);
  EXPECT_EQ(p.delay, Duration(100ms));
}

TEST(RestartPlanBackoff, a_group_restart_takes_over_a_member_waiting_for_its_own) {
  // rest_for_one: b waits for its backoff when a crashes: a's restart brings
  // b and c back with it, in start order, and b's own wait is void.
  auto s = sup(Strategy::rest_for_one, "a- b~ c-");
  s.backoff = Backoff{.initial = 100ms, .max = 1s};
  auto p = on_exit(s, {1, kCrash}, kT0, 0.5);
  check(p, {{}, {}, {}, 1, Plan::End::none, {2}});
}

// ---- a restart that comes due, and a failed start ----------------------------------

TEST(RestartPlanRetry, one_for_all_retry_takes_down_what_the_failed_attempt_started) {
  // a came back, b failed to start (it owns the retry), c never started:
  // the retry stops a again and starts all three (all or nothing, as OTP).
  auto p = on_restart_due(sup(Strategy::one_for_all, "a+ b~ c-"), {2, false}, kT0, 0.5);
  check(p, {{1}, {}, {1, 2, 3}});
  EXPECT_TRUE(p.counted);  // a retry counts toward the intensity, as OTP's try_again_restart
}

TEST(RestartPlanRetry, rest_for_one_retry_restarts_from_the_failed_child) {
  auto p = on_restart_due(sup(Strategy::rest_for_one, "a+ b~ c-"), {2, false}, kT0, 0.5);
  check(p, {{}, {}, {2, 3}});
}

TEST(RestartPlanRetry, a_child_terminated_while_it_waited_is_left_alone) {
  // OTP's hanging_restart_loop: terminate_child(b) during b's restart loop
  // leaves b (and c after it) not started.
  auto p = on_restart_due(sup(Strategy::rest_for_one, "a+ b- c-"), {2, false}, kT0, 0.5);
  check(p, {{}, {}, {}});
  EXPECT_FALSE(p.counted);
}

TEST(RestartPlanRetry, a_delayed_restart_counted_at_the_exit_is_not_counted_again) {
  auto s = sup(Strategy::one_for_one, "a~");
  s.max_restarts = 0;
  auto p = on_restart_due(s, {1, true}, kT0, 0.5);
  check(p, {{}, {}, {1}});
  EXPECT_FALSE(p.counted);
}

TEST(RestartPlanRetry, a_retry_past_the_intensity_ends_the_supervisor) {
  auto s = sup(Strategy::one_for_one, "a~");
  s.max_restarts = 1;
  s.restarts = {kT0 - 1s};
  check(on_restart_due(s, {1, false}, kT0, 0.5), {{}, {}, {}, std::nullopt, Plan::End::intensity_exceeded});
}

TEST(RestartPlanRetry, a_failed_start_makes_the_child_own_a_retry) {
  auto s = sup(Strategy::one_for_all, "a+ b- c-");
  auto p = on_start_failed(s, {2}, kT0, 0.5);
  check(p, {{}, {}, {}, 2});
  EXPECT_EQ(p.delay, Duration::zero());  // a message to self: requests get in between
  EXPECT_FALSE(p.delay_counted);
  EXPECT_EQ(p.attempts, (std::vector<std::pair<std::uint64_t, int>>{{2, 1}}));
}

// ---- auto_shutdown -----------------------------------------------------------------

struct AutoRow {
  const char* name;
  AutoShutdown mode;
  const char* kids;
  std::uint64_t exited;
  bool ends;
};

class AutoShutdownTable : public ::testing::TestWithParam<AutoRow> {};

TEST_P(AutoShutdownTable, plan) {
  const auto& row = GetParam();
  auto p = on_exit(sup(Strategy::one_for_one, row.kids, row.mode), {row.exited, ExitReason::normal()}, kT0, 0.5);
  EXPECT_EQ(p.end == Plan::End::auto_shutdown, row.ends);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, AutoShutdownTable,
    ::testing::Values(AutoRow{"never_ignores_significant_children", AutoShutdown::never, "a-t* b+", 1, false},
                      AutoRow{"any_significant_ends_on_the_first", AutoShutdown::any_significant, "a-t* b+t*", 1,
                              true},
                      AutoRow{"an_insignificant_child_never_ends_it", AutoShutdown::any_significant, "a-t b+t*", 1,
                              false},
                      AutoRow{"all_significant_waits_for_the_others", AutoShutdown::all_significant,
                              "a-t* b+t*", 1, false},
                      AutoRow{"all_significant_counts_a_restarting_one_as_alive", AutoShutdown::all_significant,
                              "a-t* b~t*", 1, false},
                      AutoRow{"all_significant_ends_with_the_last", AutoShutdown::all_significant, "a-t* b-t* c+",
                              1, true}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- groups --------------------------------------------------------------------

TEST(RestartGroup, by_strategy) {
  auto kids = children("a+ b+ c+ d+");
  EXPECT_EQ(restart_group(Strategy::one_for_one, kids, 2), (Keys{2}));
  EXPECT_EQ(restart_group(Strategy::simple_one_for_one, kids, 2), (Keys{2}));
  EXPECT_EQ(restart_group(Strategy::one_for_all, kids, 2), (Keys{1, 2, 3, 4}));
  EXPECT_EQ(restart_group(Strategy::rest_for_one, kids, 2), (Keys{2, 3, 4}));
  EXPECT_EQ(restart_group(Strategy::rest_for_one, kids, 4), (Keys{4}));
}

}  // namespace
}  // namespace noexpp::sup::plan
