// The GenServer protocol on one node: init, call/cast/info, handle_continue,
// deferred replies, stop and terminate, and every way a call can fail.
#include <stdexcept>
#include <thread>
#include <tuple>

#include "core/process.hpp"
#include "test_support.hpp"

namespace noexpp::test {
namespace {

class GenServerTest : public NodeTest {
 protected:
  /// Calls and expects a reply.
  Term call_ok(Pid to, Term request) {
    auto o = node_->call(to, std::move(request), kWait);
    EXPECT_TRUE(o.ok()) << testing::PrintToString(o);
    return o.value;
  }

  /// Makes a call wait in the queue behind a handler that is blocked, lets
  /// the handler go on to `then` (which ends the process), and returns the
  /// queued call's outcome.
  std::optional<CallOutcome> call_queued_behind(std::function<void(GenServer&)> then) {
    auto gate = std::make_shared<Event>();
    auto busy = std::make_shared<Event>();
    Handlers h;
    h.cast = [gate, busy, then](GenServer& self, const Term&) {
      busy->set();
      EXPECT_TRUE(gate->wait());
      then(self);
    };
    Pid p = spawn(fn_server(h));
    node_->cast(p, "block");
    EXPECT_TRUE(busy->wait());
    auto outcome = std::make_shared<Slot<CallOutcome>>();
    node_->call_async(p, "queued", kWait, [outcome](CallOutcome o) { outcome->set(std::move(o)); });
    gate->set();
    return outcome->wait();
  }
};

/// A server that logs what it handles and returns the log on call "log".
/// The log is touched only by the process itself.
Handlers logging_server() {
  auto log = std::make_shared<std::vector<Term>>();
  Handlers h;
  h.call = [log](GenServer&, const Term& req, const From&) -> CallReply {
    if (req.is("log")) return Term::list(*log);
    log->push_back(Term::tuple({"call", req}));
    return req;
  };
  h.cast = [log](GenServer&, const Term& req) { log->push_back(Term::tuple({"cast", req})); };
  h.info = [log](GenServer&, const Info& i) { log->push_back(Term::tuple({"info", i.message})); };
  return h;
}

// ---- spawn and init --------------------------------------------------------

TEST_F(GenServerTest, spawn_runs_init_with_args_in_the_new_process) {
  struct Seen {
    Term args;
    Pid self;
    bool current_is_self = false;
    std::thread::id thread;
  };
  auto seen = std::make_shared<Slot<Seen>>();
  Handlers h;
  h.init = [seen](GenServer& self, const Term& args) {
    auto* cur = Process::current();
    seen->set(Seen{args, self.self(), cur && cur->pid() == self.self(), std::this_thread::get_id()});
  };
  auto r = node_->spawn(fn_server(h), Term::list({1, "two"}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  auto s = seen->peek();  // init has run when spawn returns
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->args, Term::list({1, "two"}));
  EXPECT_EQ(s->self, r.value());
  EXPECT_TRUE(s->current_is_self);
  EXPECT_EQ(s->thread, std::this_thread::get_id());  // init runs on the spawner's thread
  EXPECT_TRUE(node_->alive(r.value()));
  EXPECT_TRUE(node_->is_local(r.value()));
  EXPECT_EQ(node_->process_count(), 1u);
  EXPECT_EQ(Process::current(), nullptr);  // not inside any process here
}

TEST_F(GenServerTest, call_cast_and_info_are_handled_in_send_order) {
  Pid p = spawn(fn_server(logging_server()));
  EXPECT_TRUE(node_->cast(p, "a"));
  EXPECT_TRUE(node_->send(p, "b"));
  EXPECT_EQ(call_ok(p, "c"), Term("c"));
  EXPECT_TRUE(node_->cast(p, "d"));
  EXPECT_TRUE(node_->send(p, "e"));
  EXPECT_EQ(call_ok(p, "log"), Term::list({Term::tuple({"cast", "a"}), Term::tuple({"info", "b"}),
                                           Term::tuple({"call", "c"}), Term::tuple({"cast", "d"}),
                                           Term::tuple({"info", "e"})}));
}

TEST_F(GenServerTest, many_messages_keep_their_order) {
  auto seen = std::make_shared<std::vector<std::int64_t>>();
  Handlers h;
  h.cast = [seen](GenServer&, const Term& t) { seen->push_back(t.as_int()); };
  h.call = [seen](GenServer&, const Term&, const From&) -> CallReply {
    for (std::size_t i = 0; i < seen->size(); ++i)
      if ((*seen)[i] != std::int64_t(i)) return Term(false);
    return Term(std::int64_t(seen->size()));
  };
  Pid p = spawn(fn_server(h));
  constexpr int kCount = 5000;  // many batches
  for (int i = 0; i < kCount; ++i) node_->cast(p, i);
  EXPECT_EQ(call_ok(p, "check"), Term(kCount));
}

TEST_F(GenServerTest, call_reply_value_and_from_are_given_to_the_handler) {
  auto from_seen = std::make_shared<Slot<From>>();
  Handlers h;
  h.call = [from_seen](GenServer&, const Term& req, const From& from) -> CallReply {
    from_seen->set(from);
    return Term::tuple({"echo", req});
  };
  Pid p = spawn(fn_server(h));
  EXPECT_EQ(call_ok(p, Term(Map{{{"k", 1}}})), Term::tuple({"echo", Term(Map{{{"k", 1}}})}));
  auto f = from_seen->peek();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->caller, node_->node_pid());  // a call from outside any process
  EXPECT_TRUE(f->caller.is_node_itself());
  EXPECT_NE(f->ref, 0u);
}

TEST_F(GenServerTest, init_failure_fails_spawn_and_leaves_no_process) {
  auto init_self = std::make_shared<Slot<Pid>>();
  auto terminated = std::make_shared<std::atomic<bool>>(false);
  Handlers h;
  h.init = [init_self](GenServer& self, const Term&) {
    init_self->set(self.self());
    throw std::runtime_error("cannot start");
  };
  h.terminate = [terminated](GenServer&, const ExitReason&) { terminated->store(true); };
  auto r = node_->spawn(fn_server(h), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::init_failed);
  EXPECT_NE(r.error().detail.find("cannot start"), std::string::npos) << r.error().detail;
  EXPECT_EQ(node_->process_count(), 0u);
  EXPECT_TRUE(node_->processes().empty());
  auto pid = init_self->peek();
  ASSERT_TRUE(pid.has_value());
  EXPECT_FALSE(node_->alive(*pid));
  EXPECT_EQ(node_->call(*pid, "ping", kWait).status, Errc::no_process);
  EXPECT_FALSE(terminated->load()) << "terminate must not run when init fails (as OTP)";
}

TEST_F(GenServerTest, init_failure_releases_the_name) {
  Handlers bad;
  bad.init = [](GenServer&, const Term&) { throw std::runtime_error("no"); };
  SpawnOptions o;
  o.name = "svc";
  auto r = node_->spawn(fn_server(bad), {}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::init_failed);
  EXPECT_FALSE(node_->whereis("svc").has_value());
  auto good = node_->spawn(fn_server({}), {}, o);
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_EQ(node_->whereis("svc"), good.value());
}

TEST_F(GenServerTest, stop_in_init_fails_spawn) {
  Handlers h;
  h.init = [](GenServer& self, const Term&) { self.stop(ExitReason::shutdown_with("not today")); };
  auto r = node_->spawn(fn_server(h), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::init_failed);
  EXPECT_EQ(node_->process_count(), 0u);
}

TEST_F(GenServerTest, messages_sent_during_init_are_handled_after_it) {
  // init casts to itself: the message must wait for init and then be handled.
  auto got = std::make_shared<Recorder<Term>>();
  Handlers h;
  h.init = [](GenServer& self, const Term&) { self.cast(self.self(), "from_init"); };
  h.cast = [got](GenServer&, const Term& t) { got->push(t); };
  Pid p = spawn(fn_server(h));
  ASSERT_TRUE(got->wait_until_count(1));
  EXPECT_EQ(got->snapshot()[0], Term("from_init"));
  EXPECT_TRUE(node_->alive(p));
}

TEST_F(GenServerTest, spawn_and_call_from_inside_a_handler) {
  // As a supervisor does: spawn a child from a handler (init runs on this
  // engine thread), then call it synchronously.
  Handlers parent;
  parent.call = [](GenServer& self, const Term& req, const From&) -> CallReply {
    SpawnOptions o;
    o.link_to = self.self();
    Handlers child;
    child.init = [](GenServer& c, const Term& args) {
      if (!args.is("child args")) throw std::runtime_error("wrong args");
      c.continue_with("ready");
    };
    auto r = self.node().spawn(fn_server(child), req, o);
    if (!r.ok()) return Term::tuple({"spawn failed", r.error().to_string()});
    auto o2 = self.node().call(r.value(), "hello", kWait);
    return Term::tuple({to_string(o2.status), o2.value});
  };
  Pid p = spawn(fn_server(parent));
  EXPECT_EQ(call_ok(p, "child args"), Term::tuple({to_string(Errc::ok), "hello"}));
  EXPECT_EQ(node_->process_count(), 2u);
}

// ---- handle_continue -------------------------------------------------------

TEST_F(GenServerTest, handle_continue_from_init_runs_before_the_first_message) {
  auto h = logging_server();
  h.init = [](GenServer& self, const Term&) { self.continue_with("setup"); };
  auto log_cast = h.cast;
  h.cont = [log_cast](GenServer& self, const Term& arg) { log_cast(self, Term::tuple({"continue", arg})); };
  Pid p = spawn(fn_server(h));
  node_->cast(p, "first");
  EXPECT_EQ(call_ok(p, "log"), Term::list({Term::tuple({"cast", Term::tuple({"continue", "setup"})}),
                                           Term::tuple({"cast", "first"})}));
}

TEST_F(GenServerTest, handle_continue_runs_before_the_next_queued_message) {
  auto gate = std::make_shared<Event>();
  auto log = std::make_shared<std::vector<Term>>();
  Handlers h;
  h.cast = [gate, log](GenServer& self, const Term& req) {
    log->push_back(req);
    if (req.is("a")) {
      // Hold the process until "b" is surely queued behind us.
      EXPECT_TRUE(gate->wait());
      self.continue_with("after_a");
    }
  };
  h.cont = [log](GenServer& self, const Term& arg) {
    log->push_back(Term::tuple({"continue", arg}));
    if (arg.is("after_a")) self.continue_with("chained");  // a continue may continue again
  };
  h.call = [log](GenServer&, const Term&, const From&) -> CallReply { return Term::list(*log); };
  Pid p = spawn(fn_server(h));
  node_->cast(p, "a");
  node_->cast(p, "b");
  gate->set();
  EXPECT_EQ(call_ok(p, "log"), Term::list({"a", Term::tuple({"continue", "after_a"}),
                                           Term::tuple({"continue", "chained"}), "b"}));
}

// ---- deferred replies ------------------------------------------------------

TEST_F(GenServerTest, deferred_reply_from_the_same_process) {
  auto held = std::make_shared<std::optional<From>>();
  Handlers h;
  h.call = [held](GenServer&, const Term& req, const From& from) -> CallReply {
    if (req.is("later")) {
      *held = from;
      return CallReply::noreply();
    }
    return req;
  };
  h.cast = [held](GenServer& self, const Term& req) {
    if (req.is("release") && *held) self.reply(**held, "deferred");
  };
  Pid p = spawn(fn_server(h));
  auto outcome = std::make_shared<Slot<CallOutcome>>();
  node_->call_async(p, "later", kWait, [outcome](CallOutcome o) { outcome->set(std::move(o)); });
  // The server is not blocked meanwhile: it answers another call.
  EXPECT_EQ(call_ok(p, "other"), Term("other"));
  EXPECT_FALSE(outcome->peek().has_value());
  node_->cast(p, "release");
  auto o = outcome->wait();
  ASSERT_TRUE(o.has_value());
  ASSERT_TRUE(o->ok()) << testing::PrintToString(*o);
  EXPECT_EQ(o->value, Term("deferred"));
}

TEST_F(GenServerTest, deferred_reply_from_another_process) {
  // The server hands the caller's From to a helper, which replies.
  auto handoff = std::make_shared<Slot<From>>();
  Handlers helper;
  helper.cast = [handoff](GenServer& self, const Term& req) {
    if (req.is("go")) {
      auto from = handoff->wait();
      if (from) self.reply(*from, Term::tuple({"from_helper", self.self()}));
    }
  };
  Pid helper_pid = spawn(fn_server(helper));
  Handlers server;
  server.call = [handoff](GenServer& self, const Term& req, const From& from) -> CallReply {
    handoff->set(from);
    self.cast(req.as_pid(), "go");
    return CallReply::noreply();
  };
  Pid server_pid = spawn(fn_server(server));
  auto o = node_->call(server_pid, helper_pid, kWait);
  ASSERT_TRUE(o.ok()) << testing::PrintToString(o);
  EXPECT_EQ(o.value, Term::tuple({"from_helper", helper_pid}));
}

TEST_F(GenServerTest, deferred_reply_via_node_reply_from_any_thread) {
  auto handoff = std::make_shared<Slot<From>>();
  Handlers h;
  h.call = [handoff](GenServer&, const Term&, const From& from) -> CallReply {
    handoff->set(from);
    return CallReply::noreply();
  };
  Pid p = spawn(fn_server(h));
  auto outcome = std::make_shared<Slot<CallOutcome>>();
  node_->call_async(p, "q", kWait, [outcome](CallOutcome o) { outcome->set(std::move(o)); });
  auto from = handoff->wait();
  ASSERT_TRUE(from.has_value());
  std::thread([this, f = *from] { node_->reply(f, 42); }).join();
  auto o = outcome->wait();
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->value, Term(42));
  node_->reply(*from, 43);  // a second reply to the same call is dropped
  EXPECT_EQ(node_->open_calls(), 0u);
}

TEST_F(GenServerTest, deferred_call_fails_when_the_server_crashes) {
  Handlers h;
  h.call = [](GenServer&, const Term&, const From&) -> CallReply { return CallReply::noreply(); };
  h.cast = [](GenServer&, const Term&) { throw std::runtime_error("lost it"); };
  Pid p = spawn(fn_server(h));
  auto outcome = std::make_shared<Slot<CallOutcome>>();
  node_->call_async(p, "q", kWait, [outcome](CallOutcome o) { outcome->set(std::move(o)); });
  node_->cast(p, "crash");
  auto o = outcome->wait();
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->status, Errc::process_crashed) << testing::PrintToString(*o);
  EXPECT_EQ(o->reason.kind, ExitReason::Kind::error);
  EXPECT_EQ(o->reason.message, "lost it");
}

// ---- stop and terminate ----------------------------------------------------

TEST_F(GenServerTest, terminate_called_on_stop_from_inside_with_the_reason) {
  auto reasons = std::make_shared<Recorder<ExitReason>>();
  Handlers h;
  h.cast = [](GenServer& self, const Term& req) {
    if (req.is("stop")) self.stop(ExitReason::shutdown_with("bye"));
  };
  h.terminate = [reasons](GenServer&, const ExitReason& r) { reasons->push(r); };
  Pid p = spawn(fn_server(h));
  ExitWatch w(*node_, p);
  node_->cast(p, "stop");
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::shutdown_with("bye"));
  ASSERT_EQ(reasons->size(), 1u);  // terminate ran before the monitors were told
  EXPECT_EQ(reasons->snapshot()[0], ExitReason::shutdown_with("bye"));
  EXPECT_FALSE(node_->alive(p));
  EXPECT_EQ(node_->process_count(), 0u);
}

TEST_F(GenServerTest, stop_from_handle_call_still_replies) {
  auto reasons = std::make_shared<Recorder<ExitReason>>();
  Handlers h;
  h.call = [](GenServer& self, const Term&, const From&) -> CallReply {
    self.stop();  // {stop, normal, Reply, State}
    return Term("goodbye");
  };
  h.terminate = [reasons](GenServer&, const ExitReason& r) { reasons->push(r); };
  Pid p = spawn(fn_server(h));
  ExitWatch w(*node_, p);
  EXPECT_EQ(call_ok(p, "quit"), Term("goodbye"));
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::normal());
  ASSERT_TRUE(reasons->wait_until_count(1));
  EXPECT_EQ(reasons->snapshot()[0], ExitReason::normal());
}

TEST_F(GenServerTest, stop_skips_the_rest_of_the_mailbox) {
  auto handled = std::make_shared<Recorder<Term>>();
  auto gate = std::make_shared<Event>();
  Handlers h;
  h.cast = [handled, gate](GenServer& self, const Term& req) {
    handled->push(req);
    if (req.is("stop")) {
      EXPECT_TRUE(gate->wait());
      self.stop();
    }
  };
  Pid p = spawn(fn_server(h));
  ExitWatch w(*node_, p);
  node_->cast(p, "stop");
  node_->cast(p, "after");
  gate->set();
  ASSERT_TRUE(w.wait().has_value());
  EXPECT_EQ(handled->snapshot(), std::vector<Term>{"stop"});
}

TEST_F(GenServerTest, terminate_called_on_crash_with_error_reason) {
  auto reasons = std::make_shared<Recorder<ExitReason>>();
  Handlers h;
  h.cast = [](GenServer&, const Term&) { throw std::runtime_error("boom"); };
  h.terminate = [reasons](GenServer&, const ExitReason& r) { reasons->push(r); };
  Pid p = spawn(fn_server(h));
  ExitWatch w(*node_, p);
  node_->cast(p, "crash");
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, ExitReason::Kind::error);
  EXPECT_EQ(r->error_type, "std::runtime_error");
  EXPECT_EQ(r->message, "boom");
  EXPECT_TRUE(r->is_abnormal());
  ASSERT_EQ(reasons->size(), 1u);
  EXPECT_EQ(reasons->snapshot()[0], *r);
}

TEST_F(GenServerTest, crash_reason_names_the_exception_type) {
  Handlers h;
  h.info = [](GenServer&, const Info& i) {
    if (i.message.is("logic")) throw std::logic_error("bad logic");
    if (i.message.is("handler")) throw HandlerError("ValueError", "bad value");
    throw 42;  // not even an exception
  };
  for (auto [msg, type, text] : {std::tuple{"logic", "std::logic_error", "bad logic"},
                                 std::tuple{"handler", "ValueError", "bad value"}}) {
    Pid p = spawn(fn_server(h));
    ExitWatch w(*node_, p);
    node_->send(p, msg);
    auto r = w.wait();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, ExitReason::error(type, text));
  }
  Pid p = spawn(fn_server(h));
  ExitWatch w(*node_, p);
  node_->send(p, "int");
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, ExitReason::Kind::error);  // a crash, not a crashed engine
}

TEST_F(GenServerTest, terminate_that_raises_makes_its_error_the_exit_reason) {
  Handlers h;
  h.cast = [](GenServer& self, const Term&) { self.stop(ExitReason::shutdown()); };
  h.terminate = [](GenServer&, const ExitReason&) { throw std::runtime_error("terminate failed"); };
  Pid p = spawn(fn_server(h));
  ExitWatch w(*node_, p);
  node_->cast(p, "stop");
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::error("std::runtime_error", "terminate failed"));  // as OTP
  EXPECT_FALSE(node_->alive(p));
}

TEST_F(GenServerTest, stop_process_of_a_process_whose_terminate_raises_is_process_crashed) {
  Handlers h;
  h.terminate = [](GenServer&, const ExitReason&) { throw std::runtime_error("terminate failed"); };
  Pid p = spawn(fn_server(h));
  ExitReason exited_with;
  auto r = node_->stop_process(p, ExitReason::normal(), kWait, &exited_with);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::process_crashed);
  EXPECT_EQ(exited_with, ExitReason::error("std::runtime_error", "terminate failed"));
  EXPECT_FALSE(node_->alive(p));
}

TEST_F(GenServerTest, stop_process_from_outside_calls_terminate) {
  auto reasons = std::make_shared<Recorder<ExitReason>>();
  Handlers h;
  h.terminate = [reasons](GenServer&, const ExitReason& r) { reasons->push(r); };
  Pid p = spawn(fn_server(h));
  auto r = node_->stop_process(p, ExitReason::shutdown(), kWait);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r.value());
  // stop_process returns once the process is gone.
  EXPECT_FALSE(node_->alive(p));
  ASSERT_EQ(reasons->size(), 1u);
  EXPECT_EQ(reasons->snapshot()[0], ExitReason::shutdown());
}

TEST_F(GenServerTest, stop_process_of_a_dead_pid_is_no_process) {
  Pid p = spawn(fn_server({}));
  ASSERT_TRUE(node_->stop_process(p, ExitReason::normal(), kWait).ok());
  auto again = node_->stop_process(p, ExitReason::normal(), kWait);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::no_process);
}

TEST_F(GenServerTest, stop_process_times_out_on_a_busy_process) {
  auto gate = std::make_shared<Event>();
  auto busy = std::make_shared<Event>();
  auto reasons = std::make_shared<Recorder<ExitReason>>();
  Handlers h;
  h.cast = [gate, busy](GenServer&, const Term&) {
    busy->set();
    EXPECT_TRUE(gate->wait());
  };
  h.terminate = [reasons](GenServer&, const ExitReason& r) { reasons->push(r); };
  Pid p = spawn(fn_server(h));
  node_->cast(p, "block");
  ASSERT_TRUE(busy->wait());
  auto r = node_->stop_process(p, ExitReason::shutdown(), 100ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::call_timeout);
  EXPECT_TRUE(node_->alive(p));
  // The stop request stays queued: once the handler returns, the process stops.
  ExitWatch w(*node_, p);
  gate->set();
  auto reason = w.wait();
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, ExitReason::shutdown());
  EXPECT_TRUE(reasons->wait_until_count(1));
}

// ---- call failures ---------------------------------------------------------

TEST_F(GenServerTest, a_call_with_a_zero_timeout_is_an_invalid_argument) {
  Pid p = spawn(fn_server(Handlers{}));
  auto o = node_->call(p, "anything", Duration::zero());
  EXPECT_EQ(o.status, Errc::invalid_argument) << testing::PrintToString(o);
  EXPECT_NE(o.detail.find("timeout"), std::string::npos) << o.detail;
  EXPECT_EQ(node_->open_calls(), 0u);
  EXPECT_TRUE(node_->alive(p));
}

TEST_F(GenServerTest, call_timeout_then_late_reply_is_dropped) {
  auto held = std::make_shared<std::optional<From>>();
  Handlers h;
  h.call = [held](GenServer&, const Term& req, const From& from) -> CallReply {
    if (req.is("slow")) {
      *held = from;
      return CallReply::noreply();
    }
    return Term::tuple({"reply_to", req});
  };
  h.cast = [held](GenServer& self, const Term&) {
    if (*held) self.reply(**held, "stale");  // the caller gave up long ago
  };
  Pid p = spawn(fn_server(h));
  auto t0 = std::chrono::steady_clock::now();
  auto o = node_->call(p, "slow", 100ms);
  EXPECT_EQ(o.status, Errc::call_timeout) << testing::PrintToString(o);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
  node_->cast(p, "release");  // the late reply is sent before the next call is handled
  auto next = node_->call(p, "fresh", kWait);
  ASSERT_TRUE(next.ok()) << testing::PrintToString(next);
  EXPECT_EQ(next.value, Term::tuple({"reply_to", "fresh"}));
  EXPECT_EQ(node_->open_calls(), 0u);
  EXPECT_TRUE(node_->alive(p));
}

TEST_F(GenServerTest, call_async_timeout_completes_once) {
  Handlers h;
  h.call = [](GenServer&, const Term&, const From&) -> CallReply { return CallReply::noreply(); };
  Pid p = spawn(fn_server(h));
  auto outcomes = std::make_shared<Recorder<Errc>>();
  node_->call_async(p, "never", 50ms, [outcomes](CallOutcome o) { outcomes->push(o.status); });
  ASSERT_TRUE(outcomes->wait_until_count(1));
  EXPECT_EQ(outcomes->snapshot()[0], Errc::call_timeout);
  // Completion is exactly once: the node stopping later must not complete it again.
  node_->stop();
  EXPECT_EQ(outcomes->size(), 1u);
}

TEST_F(GenServerTest, call_to_a_dead_pid_is_noproc) {
  Pid p = spawn(fn_server({}));
  ASSERT_TRUE(node_->stop_process(p, ExitReason::normal(), kWait).ok());
  auto o = node_->call(p, "ping", kWait);
  EXPECT_EQ(o.status, Errc::no_process);
  // A serial never handed out, and a pid of another incarnation of this node.
  Pid never{p.node, p.creation, p.serial + 1000000};
  EXPECT_EQ(node_->call(never, "ping", kWait).status, Errc::no_process);
  Pid live = spawn(fn_server({}));
  Pid wrong_creation{live.node, live.creation + 1, live.serial};
  EXPECT_EQ(node_->call(wrong_creation, "ping", kWait).status, Errc::no_process);
  // Casts and sends to a dead pid are dropped quietly.
  node_->cast(p, "x");
  node_->send(p, "x");
}

TEST_F(GenServerTest, call_target_crashes_while_handling) {
  Handlers h;
  h.call = [](GenServer&, const Term&, const From&) -> CallReply { throw std::runtime_error("kaboom"); };
  Pid p = spawn(fn_server(h));
  auto o = node_->call(p, "anything", kWait);
  EXPECT_EQ(o.status, Errc::process_crashed) << testing::PrintToString(o);
  EXPECT_EQ(o.reason, ExitReason::error("std::runtime_error", "kaboom"));
  EXPECT_FALSE(node_->alive(p));
}

TEST_F(GenServerTest, queued_call_fails_when_the_target_crashes) {
  auto o = call_queued_behind([](GenServer&) { throw std::runtime_error("crashed with calls queued"); });
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->status, Errc::process_crashed) << testing::PrintToString(*o);
  EXPECT_EQ(o->reason.message, "crashed with calls queued");
}

TEST_F(GenServerTest, queued_call_is_noproc_when_the_target_stops_normally) {
  auto o = call_queued_behind([](GenServer& self) { self.stop(); });
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->status, Errc::no_process) << testing::PrintToString(*o);
}

TEST_F(GenServerTest, self_call_from_a_handler_fails_immediately) {
  Handlers h;
  h.call = [](GenServer& self, const Term& req, const From&) -> CallReply {
    if (!req.is("call_myself")) return req;
    // Waiting would end as `timeout` after kWait (and time out the outer
    // call first); self_call means the engine refused at once.
    return Term(to_string(self.node().call(self.self(), "inner", kWait).status));
  };
  Pid p = spawn(fn_server(h));
  EXPECT_EQ(call_ok(p, "call_myself"), Term(to_string(Errc::self_call)));
  EXPECT_TRUE(node_->alive(p));
}

TEST_F(GenServerTest, await_call_to_self_fails_immediately) {
  auto got = std::make_shared<Slot<Errc>>();
  Handlers h;
  h.cast = [got](GenServer& self, const Term&) {
    self.await_call(self.self(), "inner", kWait, [got](CallOutcome o) { got->set(o.status); });
  };
  Pid p = spawn(fn_server(h));
  node_->cast(p, "go");
  auto s = got->wait();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, Errc::self_call);
  EXPECT_TRUE(node_->alive(p));
}

TEST_F(GenServerTest, await_call_runs_done_in_the_process) {
  Pid echo = spawn(fn_server({}));
  struct Seen {
    CallOutcome outcome;
    bool in_process = false;
  };
  auto got = std::make_shared<Slot<Seen>>();
  Handlers h;
  h.cast = [got, echo](GenServer& self, const Term&) {
    Pid me = self.self();
    self.await_call(echo, "hello", kWait, [got, me](CallOutcome o) {
      auto* cur = Process::current();
      got->set(Seen{std::move(o), cur && cur->pid() == me});
    });
  };
  Pid p = spawn(fn_server(h));
  node_->cast(p, "go");
  auto s = got->wait();
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->outcome.ok());
  EXPECT_EQ(s->outcome.value, Term("hello"));
  EXPECT_TRUE(s->in_process);
}

TEST_F(GenServerTest, crash_inside_await_callback_crashes_the_process) {
  Pid echo = spawn(fn_server({}));
  Handlers h;
  h.cast = [echo](GenServer& self, const Term&) {
    self.await_call(echo, "x", kWait, [](CallOutcome) { throw std::runtime_error("in done"); });
  };
  Pid p = spawn(fn_server(h));
  ExitWatch w(*node_, p);
  node_->cast(p, "go");
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::error("std::runtime_error", "in done"));
}

TEST_F(GenServerTest, call_and_spawn_after_node_stop_are_node_stopped) {
  Pid p = spawn(fn_server({}));
  node_->stop();
  EXPECT_FALSE(node_->running());
  EXPECT_EQ(node_->call(p, "ping", kWait).status, Errc::node_stopped);
  auto r = node_->spawn(fn_server({}), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::node_stopped);
}

TEST_F(GenServerTest, node_stop_fails_open_calls_with_node_stopped) {
  Handlers h;
  h.call = [](GenServer&, const Term& req, const From&) -> CallReply {
    if (req.is("never answered")) return CallReply::noreply();
    return req;
  };
  Pid p = spawn(fn_server(h));
  auto outcome = std::make_shared<Slot<CallOutcome>>();
  node_->call_async(p, "never answered", kInfinity, [outcome](CallOutcome o) { outcome->set(std::move(o)); });
  EXPECT_EQ(call_ok(p, "sync"), Term("sync"));  // so the first call is surely open now
  node_->stop();
  auto o = outcome->wait();
  ASSERT_TRUE(o.has_value());
  // The server stopped (shutdown) with the call open: noproc or node_stopped
  // are both honest; a caller left hanging is not.
  EXPECT_NE(o->status, Errc::ok);
}


// ---- OTP's missing callbacks, ignore, and the last message of a crash ----------

/// A behavior that defines nothing but what GenServer does by default.
class Bare : public GenServer {
 public:
  std::string behavior_name() const override { return "bare"; }
};

TEST_F(GenServerTest, a_cast_without_handle_cast_crashes_naming_it) {
  Pid p = spawn([] { return std::make_unique<Bare>(); });
  ExitWatch w(*node_, p);
  node_->cast(p, "inc");
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->error_type, "UndefinedCallbackError");
  EXPECT_NE(r->message.find("handle_cast"), std::string::npos) << r->message;
  EXPECT_EQ(r->last_message, "cast 'inc'");
}

TEST_F(GenServerTest, a_continue_without_handle_continue_crashes_naming_it) {
  Handlers h;
  h.cast = [](GenServer& self, const Term&) { self.continue_with("next"); };
  class NoContinue : public FnServer {
   public:
    using FnServer::FnServer;
    void handle_continue(const Term& arg) override { GenServer::handle_continue(arg); }
  };
  Pid p = spawn([h] { return std::make_unique<NoContinue>(h); });
  ExitWatch w(*node_, p);
  node_->cast(p, "go");
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->error_type, "UndefinedCallbackError");
  EXPECT_NE(r->message.find("handle_continue"), std::string::npos) << r->message;
}

TEST_F(GenServerTest, a_call_without_handle_call_crashes_naming_it) {
  Pid p = spawn([] { return std::make_unique<Bare>(); });
  auto o = node_->call(p, "get", kWait);
  EXPECT_EQ(o.status, Errc::process_crashed);
  EXPECT_EQ(o.reason.error_type, "UndefinedCallbackError");
  EXPECT_NE(o.reason.message.find("handle_call"), std::string::npos) << o.reason.message;
}

TEST_F(GenServerTest, an_info_without_handle_info_is_dropped_and_the_process_goes_on) {
  Pid p = spawn([] { return std::make_unique<Bare>(); });
  for (int i = 0; i < 100; ++i) node_->send(p, i);  // ten warnings, the rest counted
  // A call is answered after the infos: they were handled (dropped), not fatal.
  auto o = node_->call(p, "get", kWait);
  EXPECT_EQ(o.reason.error_type, "UndefinedCallbackError");  // handle_call is missing too
  EXPECT_FALSE(node_->alive(p));
}

TEST_F(GenServerTest, init_that_ignores_starts_nothing_and_spawn_says_ignored) {
  Handlers h;
  h.init = [](GenServer& self, const Term&) { self.ignore(); };
  SpawnOptions o;
  o.name = "ignored";
  auto r = node_->spawn(fn_server(h), {}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::ignored);
  EXPECT_EQ(node_->process_count(), 0u);
  EXPECT_FALSE(node_->whereis("ignored").has_value());
}

TEST_F(GenServerTest, a_crash_keeps_what_it_was_handling_bounded) {
  Handlers h;
  h.call = [](GenServer&, const Term&, const From&) -> CallReply { throw std::runtime_error("boom"); };
  Pid p = spawn(fn_server(h));
  auto o = node_->call(p, Term::list({std::string(5000, 'x')}), kWait);
  ASSERT_EQ(o.status, Errc::process_crashed);
  EXPECT_EQ(o.reason.last_message.rfind("call ['xxx", 0), 0u) << o.reason.last_message;
  EXPECT_LT(o.reason.last_message.size(), 600u);
  // The last message travels with the reason, and does not change what it equals.
  EXPECT_EQ(ExitReason::from_term(o.reason.to_term()).last_message, o.reason.last_message);
  EXPECT_EQ(o.reason, ExitReason::error("std::runtime_error", "boom"));
}

}  // namespace
}  // namespace noexpp::test
