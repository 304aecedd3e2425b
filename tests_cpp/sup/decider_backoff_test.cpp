// Beyond OTP: a decider that answers resume / restart / stop / escalate when
// a handler raises, and exponential backoff between consecutive restarts of
// one child that never blocks the supervisor.
#include "sup_test_support.hpp"

namespace noexpp::test {
namespace {

using Decision = std::pair<std::string, ExitReason>;  // what the decider was asked

class Decider : public SupTest {
 protected:
  /// A decider that records what it is asked and answers `pick(child_id)`.
  sup::Decider recording(std::function<Directive(const std::string&)> pick) {
    return [asked = asked_, pick = std::move(pick)](const std::string& id, const ExitReason& r) {
      asked->push({id, r});
      return pick(id);
    };
  }
  SupervisorSpec with_decider(std::vector<ChildSpec> children, std::function<Directive(const std::string&)> pick) {
    auto spec = spec_of(Strategy::one_for_one, std::move(children));
    spec.decider = recording(std::move(pick));
    return spec;
  }
  static std::function<Directive(const std::string&)> always(Directive d) {
    return [d](const std::string&) { return d; };
  }
  std::shared_ptr<Recorder<Decision>> asked_ = std::make_shared<Recorder<Decision>>();
};

TEST_F(Decider, resume_keeps_the_child_and_its_state) {
  auto s = start_sup(with_decider({worker("a"), worker("b")}, always(Directive::resume)));
  Pid a = pid_of(s, "a");
  EXPECT_EQ(node_->call(a, "incr").value, Term(1));
  EXPECT_EQ(node_->call(a, "incr").value, Term(2));
  auto crashed = node_->call(a, "crash");
  EXPECT_EQ(crashed.status, Errc::process_crashed);
  EXPECT_EQ(crashed.reason, ExitReason::error("std::runtime_error", "boom"));
  EXPECT_EQ(node_->call(a, "incr").value, Term(3));  // same process, same state
  node_->cast(a, "crash");
  EXPECT_EQ(node_->call(a, "incr").value, Term(4));
  EXPECT_EQ(pid_of(s, "a"), a);

  ASSERT_TRUE(wait_event("child_resumed", "a", 2));
  auto resumed = events_of("child_resumed", "a");
  EXPECT_EQ(str_field(resumed[0], "reason"), "error std::runtime_error: boom");
  EXPECT_EQ(field(resumed[0], "supervisor_pid"), Term(s.pid()));
  EXPECT_EQ(str_field(resumed[0], "supervisor"), s.pid().to_string());
  EXPECT_TRUE(events_of("child_stopped").empty());
  EXPECT_EQ(journal_->lines("terminate"), Lines{});
  auto st = s.stats();
  EXPECT_EQ(st.total_restarts, 0u);
  EXPECT_EQ(st.children.at(0).restart_count, 0);
  EXPECT_EQ(st.health, "healthy");

  auto asked = asked_->snapshot();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].first, "a");
  EXPECT_EQ(asked[0].second.kind, ExitReason::Kind::error);
  EXPECT_EQ(asked[0].second.error_type, "std::runtime_error");
  EXPECT_EQ(asked[0].second.message, "boom");
}

TEST_F(Decider, restart_follows_the_usual_rule) {
  auto s = start_sup(with_decider({worker("a"), worker("t", {.restart = RestartType::temporary})},
                                  always(Directive::restart)));
  Pid a = pid_of(s, "a");
  EXPECT_EQ(node_->call(a, "incr").value, Term(1));
  crash_and_wait_restart(s, "a", 1);
  Pid a2 = pid_of(s, "a");
  EXPECT_NE(a2, a);
  EXPECT_EQ(node_->call(a2, "incr").value, Term(1));  // fresh state
  // "restart" of a temporary child still means: not restarted.
  node_->cast(pid_of(s, "t"), "crash");
  ASSERT_TRUE(wait_event("child_stopped", "t", 1, s.pid()));
  EXPECT_EQ(ids_of(s), (Lines{"a"}));
  EXPECT_EQ(asked_->size(), 2u);
}

TEST_F(Decider, stop_removes_the_child) {
  auto s = start_sup(with_decider({worker("a"), worker("b"), worker("c")}, always(Directive::stop)));
  Pid a = pid_of(s, "a");
  Pid c = pid_of(s, "c");
  node_->cast(pid_of(s, "b"), "crash");
  ASSERT_TRUE(wait_event("child_stopped", "b", 1, s.pid()));
  EXPECT_EQ(ids_of(s), (Lines{"a", "c"}));  // permanent, yet gone
  EXPECT_EQ(pid_of(s, "a"), a);
  EXPECT_EQ(pid_of(s, "c"), c);
  EXPECT_EQ(journal_->count("start b"), 1u);
  EXPECT_EQ(s.stats().total_restarts, 0u);
  EXPECT_EQ(s.restart_child("b").error().code, sup::SupErrc::child_not_found);
  EXPECT_TRUE(s.running());
}

TEST_F(Decider, escalate_stops_the_supervisor) {
  auto s = start_sup(with_decider({worker("a"), worker("b"), worker("c")}, always(Directive::escalate)));
  ExitWatch watch(*node_, s.pid());
  node_->cast(pid_of(s, "b"), "crash");
  auto reason = watch.wait();
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, ExitReason::shutdown());
  ASSERT_TRUE(wait_stopped(s.pid()));
  EXPECT_EQ(trace(s.pid()), (Lines{"supervisor_started", "child_started a", "child_started b", "child_started c",
                                   "child_stopped b", "child_stopped c", "child_stopped a", "supervisor_stopped"}));
  EXPECT_EQ(str_field(events_of("supervisor_stopped").at(0), "error"), "max_restarts_exceeded");
  auto st = s.stats();
  EXPECT_EQ(st.stop_error, sup::SupErrc::max_restarts_exceeded);
  EXPECT_EQ(st.health, "failed");
  EXPECT_NE(st.stop_reason.find("escalated"), std::string::npos) << st.stop_reason;
  EXPECT_EQ(journal_->lines("terminate"), (Lines{"terminate b error std::runtime_error: boom",
                                                 "terminate c shutdown", "terminate a shutdown"}));
}

TEST_F(Decider, escalate_reaches_the_parent) {
  ExitTrapper parent;
  SpawnOptions opts;
  opts.link_to = spawn(parent.factory());
  auto s = start_sup(with_decider({worker("a")}, always(Directive::escalate)), opts);
  node_->cast(pid_of(s, "a"), "crash");
  auto reason = parent.wait_exit_from(s.pid());
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, ExitReason::shutdown());
}

TEST_F(Decider, answers_per_child) {
  auto s = start_sup(with_decider({worker("keep"), worker("drop"), worker("renew")}, [](const std::string& id) {
    return id == "keep" ? Directive::resume : id == "drop" ? Directive::stop : Directive::restart;
  }));
  Pid keep = pid_of(s, "keep");
  node_->cast(keep, "crash");
  node_->cast(pid_of(s, "drop"), "crash");
  crash_and_wait_restart(s, "renew", 1);
  ASSERT_TRUE(wait_event("child_stopped", "drop", 1, s.pid()));
  ASSERT_TRUE(wait_event("child_resumed", "keep", 1));
  EXPECT_EQ(ids_of(s), (Lines{"keep", "renew"}));
  EXPECT_EQ(pid_of(s, "keep"), keep);
  EXPECT_EQ(s.stats().total_restarts, 1u);
}

TEST_F(Decider, is_consulted_only_when_a_handler_throws) {
  auto s = start_sup(with_decider({worker("a")}, always(Directive::stop)));
  node_->cast(pid_of(s, "a"), "stop_normal");  // permanent: restarted, decider not asked
  ASSERT_TRUE(wait_event("child_restarted", "a", 1, s.pid()));
  node_->kill(pid_of(s, "a"));
  ASSERT_TRUE(wait_event("child_restarted", "a", 2, s.pid()));
  node_->exit(pid_of(s, "a"), ExitReason::other("external"));
  ASSERT_TRUE(wait_event("child_restarted", "a", 3, s.pid()));
  EXPECT_EQ(asked_->size(), 0u);
  // Init failures are not handler crashes either: the restart is retried.
  journal_->fail_next_inits("a", 1);
  node_->kill(pid_of(s, "a"));
  ASSERT_TRUE(wait_event("child_restarted", "a", 4, s.pid()));
  EXPECT_EQ(events_of("child_start_failed", "a").size(), 1u);
  EXPECT_EQ(asked_->size(), 0u);
  // Now a crash: asked once, and "stop" removes it.
  node_->cast(pid_of(s, "a"), "crash");
  ASSERT_TRUE(wait_event("child_stopped", "a", 5, s.pid()));
  EXPECT_EQ(asked_->size(), 1u);
  EXPECT_EQ(ids_of(s), Lines{});
}

TEST_F(Decider, decider_that_throws_means_restart) {
  auto spec = spec_of(Strategy::one_for_one, {worker("a")});
  spec.decider = [](const std::string&, const ExitReason&) -> Directive { throw std::runtime_error("bad decider"); };
  auto s = start_sup(spec);
  crash_and_wait_restart(s, "a", 1);
  EXPECT_TRUE(s.running());
}

TEST_F(Decider, resume_then_restart_uses_the_latest_answer) {
  // The first crash is resumed, the second restarts: an old answer is not reused.
  auto count = std::make_shared<std::atomic<int>>(0);
  auto spec = spec_of(Strategy::one_for_one, {worker("a")});
  spec.decider = [count](const std::string&, const ExitReason&) {
    return count->fetch_add(1) == 0 ? Directive::resume : Directive::restart;
  };
  auto s = start_sup(spec);
  Pid a = pid_of(s, "a");
  EXPECT_EQ(node_->call(a, "crash").status, Errc::process_crashed);
  EXPECT_EQ(pid_of(s, "a"), a);
  crash_and_wait_restart(s, "a", 1);
  EXPECT_NE(pid_of(s, "a"), a);
}

// ---- backoff ---------------------------------------------------------------------

class BackoffTest : public SupTest {
 protected:
  SupervisorSpec with_backoff(std::vector<ChildSpec> children, Backoff b, Strategy st = Strategy::one_for_one) {
    auto spec = spec_of(st, std::move(children));
    spec.backoff = b;
    return spec;
  }
  /// Seconds between each child_stopped of `id` and the child_restarted that follows it.
  std::vector<double> waits(const std::string& id, Pid sup) {
    std::vector<double> out;
    double stopped_at = -1;
    for (auto& e : events_of("", id, sup)) {
      if (e.type == "child_stopped") stopped_at = e.monotonic;
      if (e.type == "child_restarted" && stopped_at >= 0) {
        out.push_back(e.monotonic - stopped_at);
        stopped_at = -1;
      }
    }
    return out;
  }
};

TEST_F(BackoffTest, delays_grow_by_factor) {
  auto s = start_sup(with_backoff({worker("a"), worker("b")}, Backoff{.initial = 100ms, .max = 10s, .factor = 2.0}));
  for (std::size_t i = 1; i <= 3; ++i) crash_and_wait_restart(s, "a", i);
  auto w = waits("a", s.pid());
  ASSERT_EQ(w.size(), 3u);
  // A timer never fires early; it may fire late (sanitizers, load), so only
  // lower bounds and a loose growth check.
  EXPECT_GE(w[0], 0.095);
  EXPECT_GE(w[1], 0.190);
  EXPECT_GE(w[2], 0.380);
  EXPECT_GT(w[2] / w[0], 1.5) << w[0] << " " << w[1] << " " << w[2];  // 4x on an idle machine
  EXPECT_LT(w[0], 5.0);  // not stuck
  auto restarted = events_of("child_restarted", "a", s.pid());
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(field(restarted[i], "attempt"), Term(static_cast<int>(i + 1)));
    EXPECT_EQ(field(restarted[i], "restart_count"), Term(static_cast<int>(i + 1)));
  }
}

TEST_F(BackoffTest, delay_is_capped_at_max) {
  auto s = start_sup(with_backoff({worker("a")}, Backoff{.initial = 50ms, .max = 100ms, .factor = 4.0}));
  for (std::size_t i = 1; i <= 3; ++i) crash_and_wait_restart(s, "a", i);
  auto w = waits("a", s.pid());
  ASSERT_EQ(w.size(), 3u);
  EXPECT_GE(w[0], 0.045);
  EXPECT_GE(w[1], 0.095);  // 200 ms capped to 100
  EXPECT_GE(w[2], 0.095);
  EXPECT_EQ(field(events_of("child_restarted", "a").at(2), "attempt"), Term(3));
}

TEST_F(BackoffTest, attempts_start_again_after_a_healthy_period) {
  // reset_after of 1 ns: every child has been up "long enough" when it crashes.
  auto s = start_sup(with_backoff({worker("a")}, Backoff{.initial = 20ms, .max = 10s, .factor = 10.0,
                                                         .reset_after = std::chrono::nanoseconds(1)}));
  for (std::size_t i = 1; i <= 3; ++i) crash_and_wait_restart(s, "a", i);
  for (auto& e : events_of("child_restarted", "a", s.pid())) EXPECT_EQ(field(e, "attempt"), Term(1));
  for (double w : waits("a", s.pid())) EXPECT_GE(w, 0.019);
}

TEST_F(BackoffTest, supervisor_serves_calls_while_a_child_waits) {
  // A wait far longer than the test: the state during the wait is stable.
  auto s = start_sup(with_backoff({worker("a"), worker("b")}, Backoff{.initial = 60s, .max = 60s}));
  Pid b = pid_of(s, "b");
  node_->cast(pid_of(s, "a"), "crash");
  ASSERT_TRUE(wait_event("child_stopped", "a", 1, s.pid()));
  auto kids = s.which_children();
  ASSERT_TRUE(kids.ok());
  EXPECT_TRUE(kids.value().at(0).pid.is_nil());  // waiting
  EXPECT_EQ(kids.value().at(1).pid, b);
  EXPECT_EQ(node_->call(b, "ping").value, Term("pong"));  // the others keep working
  auto counts = s.count_children().value();
  EXPECT_EQ(counts.specs, 2);
  EXPECT_EQ(counts.active, 1);
  EXPECT_EQ(s.stats().health, "restarting");
  // A waiting child is neither restartable nor deletable by hand...
  EXPECT_EQ(s.restart_child("a").error().code, sup::SupErrc::child_running);
  EXPECT_EQ(s.delete_child("a").error().code, sup::SupErrc::child_running);
  // ...and new children still start.
  ASSERT_TRUE(s.start_child(worker("c")).ok());
  EXPECT_TRUE(events_of("child_restarted").empty());
  // Stopping the supervisor does not wait for the timer.
  ASSERT_TRUE(s.stop().ok());
  EXPECT_EQ(journal_->count("start a"), 1u);
}

TEST_F(BackoffTest, terminate_child_cancels_a_pending_restart) {
  auto s = start_sup(with_backoff({worker("a")}, Backoff{.initial = 60s, .max = 60s}));
  node_->cast(pid_of(s, "a"), "crash");
  ASSERT_TRUE(wait_event("child_stopped", "a", 1, s.pid()));
  ASSERT_TRUE(s.terminate_child("a").ok());
  EXPECT_EQ(s.stats().health, "degraded");  // no longer restarting
  auto r = s.restart_child("a");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(node_->call(r.value(), "ping").value, Term("pong"));
}

TEST_F(BackoffTest, waiting_child_comes_back) {
  auto s = start_sup(with_backoff({worker("a"), worker("b")}, Backoff{.initial = 50ms, .max = 1s}));
  Pid b = pid_of(s, "b");
  crash_and_wait_restart(s, "a", 1);
  EXPECT_EQ(node_->call(pid_of(s, "a"), "ping").value, Term("pong"));
  EXPECT_EQ(pid_of(s, "b"), b);
  EXPECT_EQ(s.stats().health, "degraded");
}

TEST_F(BackoffTest, one_for_all_group_waits_together) {
  auto s = start_sup(with_backoff({worker("a"), worker("b")}, Backoff{.initial = 100ms, .max = 1s},
                                  Strategy::one_for_all));
  crash_and_wait_restart(s, "b", 1);
  ASSERT_TRUE(wait_event("child_restarted", "a", 1, s.pid()));
  EXPECT_EQ(trace(s.pid()), (Lines{"supervisor_started", "child_started a", "child_started b", "child_stopped b",
                                   "child_stopped a", "child_restarted a", "child_restarted b"}));
  auto stopped = events_of("child_stopped", "b", s.pid()).at(0).monotonic;
  auto restarted = events_of("child_restarted", "a", s.pid()).at(0).monotonic;
  EXPECT_GE(restarted - stopped, 0.095);
}

TEST_F(BackoffTest, failed_restart_waits_before_retrying) {
  auto s = start_sup(with_backoff({worker("a")}, Backoff{.initial = 50ms, .max = 1s, .factor = 2.0}));
  journal_->fail_next_inits("a", 1);
  crash_and_wait_restart(s, "a", 1);
  auto ev = events_of("", "a", s.pid());
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[1].type, "child_stopped");
  EXPECT_EQ(ev[2].type, "child_start_failed");
  EXPECT_EQ(ev[3].type, "child_restarted");
  EXPECT_GE(ev[2].monotonic - ev[1].monotonic, 0.045);  // attempt 1: 50 ms
  EXPECT_GE(ev[3].monotonic - ev[2].monotonic, 0.095);  // attempt 2: 100 ms
  EXPECT_EQ(field(ev[3], "attempt"), Term(2));
}

TEST_F(BackoffTest, restart_by_hand_during_a_wait_keeps_the_next_wait) {
  // Crash (wait 1 s), terminate + restart by hand, crash again (attempt 2:
  // wait 3 s). The first wait's timer must not cut the second wait short.
  auto s = start_sup(with_backoff({worker("a")}, Backoff{.initial = 1s, .max = 10s, .factor = 3.0}));
  node_->cast(pid_of(s, "a"), "crash");
  ASSERT_TRUE(wait_event("child_stopped", "a", 1, s.pid()));
  ASSERT_TRUE(s.terminate_child("a").ok());
  ASSERT_TRUE(s.restart_child("a").ok());
  node_->cast(pid_of(s, "a"), "crash");
  // The restart that follows the second crash (on a very slow machine the
  // first wait may have ended before the terminate: then there are two).
  ASSERT_TRUE(events_->wait_until([&](const std::vector<LifecycleEvent>& v) {
    std::size_t crashes = 0;
    for (auto& e : v) {
      if (!matches(e, "", "a", s.pid())) continue;
      if (e.type == "child_stopped" && str_field(e, "reason") != "shutdown") ++crashes;
      if (e.type == "child_restarted" && crashes == 2) return true;
    }
    return false;
  }));
  auto w = waits("a", s.pid());
  ASSERT_FALSE(w.empty());
  auto restarted = events_of("child_restarted", "a", s.pid());
  EXPECT_GE(w.back(), 2.9) << "restarted after " << w.back() << " s, attempt "
                           << field(restarted.back(), "attempt").to_string();
}

TEST_F(BackoffTest, rest_for_one_waiting_group_restarts_in_start_order) {
  // b crashes: b and c wait (200 ms). Meanwhile a crashes: a, b, c wait
  // together and must come back in start order, a first: b's earlier timer
  // must not start b and c ahead of a.
  auto s = start_sup(with_backoff({worker("a"), worker("b"), worker("c")}, Backoff{.initial = 200ms, .max = 10s},
                                  Strategy::rest_for_one));
  Pid a = pid_of(s, "a");
  node_->cast(pid_of(s, "b"), "crash");
  ASSERT_TRUE(wait_event("child_stopped", "c", 1, s.pid()));
  node_->cast(a, "crash");
  // The restarts that follow a's crash (on a very slow machine b's wait may
  // have ended before it: then a's crash stops b and c again, same outcome).
  const auto restarts_after_a_crash = [sup = s.pid()](const std::vector<LifecycleEvent>& v) {
    Lines out;
    bool after = false;
    for (auto& e : v) {
      if (!matches(e, "", "", sup)) continue;
      if (e.type == "child_stopped" && str_field(e, "child_id") == "a") after = true;
      if (after && e.type == "child_restarted") out.push_back(str_field(e, "child_id"));
    }
    return out;
  };
  ASSERT_TRUE(events_->wait_until([&](const auto& v) { return restarts_after_a_crash(v).size() >= 3; }));
  EXPECT_EQ(restarts_after_a_crash(events_->snapshot()), (Lines{"a", "b", "c"}));
  EXPECT_EQ(journal_->lines("start").back(), "start c");
}

}  // namespace
}  // namespace noexpp::test
