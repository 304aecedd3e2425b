/// Restart latency under a supervisor: c_restart.erl (one_for_one, one
/// registered worker) and g_one_for_all.erl (one_for_all, ten registered
/// workers w1..w10) of the Erlang anchor.
///
/// As in Erlang, the harness is itself a process (RestartHarness). For each
/// crash it looks the workers up by name, takes t0, casts "crash" to the
/// victim (whose handle_cast throws), then waits for the ("up", name, pid)
/// messages that every restarted worker's init sends it (the name is already
/// registered when init runs), and calls each worker, found again by name,
/// with "ping". t1 is taken when the last "pong" is back. The checks (every
/// pid is new, the name points at it) come after t1, as in Erlang.
///
/// Each benchmark runs twice: with the engine's logger off (sup_restart_p50_cpp
/// ...) and with crash logging on at level "error", fd 2 sent to a temporary
/// file (..._logged). The engine writes one line per crash (the crashing
/// process's "crashed: ..." error); nothing else on this path logs at any
/// level down to "info".
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <noexpp/node.hpp>
#include <noexpp/sup/supervisor.hpp>

#include "bench_server.hpp"
#include "benchmarks.hpp"

namespace noexpp_bench {
namespace {

using noexpp::CallOutcome;
using noexpp::CallReply;
using noexpp::From;
using noexpp::Info;
using noexpp::Pid;
using noexpp::Task;
using noexpp::Term;
namespace sup = noexpp::sup;

constexpr auto kRunTimeout = std::chrono::seconds(300);

/// bench_srv.erl started with a Notify pid: init sends ("up", name, self())
/// to the harness; call "ping" -> "pong"; cast "crash" throws (exit(crash)).
/// args: (name, harness pid).
class SupWorker : public noexpp::GenServer {
 public:
  void init(const Term& args) override {
    const auto& items = args.as_tuple().items;
    send(items.at(1).as_pid(), Term::tuple({Term("up"), items.at(0), Term(self())}));
  }
  CallReply handle_call(const Term& request, const From&) override {
    if (request.is("ping")) return Term("pong");
    return Term("unknown_request");
  }
  void handle_cast(const Term& request) override {
    if (request.is("crash")) throw std::runtime_error("crash");
  }
  std::string behavior_name() const override { return "bench_srv"; }
};

/// The measuring process. One call runs a whole series:
///   ("run", [name...], victim_index, warmup, n) -> ("ok", p50_ns, p99_ns, count)
///   or ("error", why).
class RestartHarness : public noexpp::GenServer {
 public:
  CallReply handle_call(const Term& request, const From& from) override {
    const auto& items = request.as_tuple().items;
    names_.clear();
    for (const auto& n : items.at(1).as_list().items) names_.push_back(n.as_string());
    victim_ = names_.at(static_cast<std::size_t>(items.at(2).as_int()));
    warmup_ = items.at(3).as_int();
    n_ = items.at(4).as_int();
    from_ = from;
    samples_.clear();
    samples_.reserve(static_cast<std::size_t>(n_));
    rounds_ = 0;
    crash_once();
    return CallReply::noreply();
  }

  void handle_info(const Info& info) override {
    if (!waiting_ || info.kind != Info::Kind::message || !info.message.is_tuple()) return;
    const auto& items = info.message.as_tuple().items;
    if (items.size() != 3 || !items[0].is("up") || !items[2].is_pid()) return;
    ups_.push_back(items[2].as_pid());
    if (ups_.size() < names_.size()) return;
    waiting_ = false;
    verify();
  }

  std::string behavior_name() const override { return "bench_sup_harness"; }

 private:
  void crash_once() {
    old_.clear();
    for (const auto& n : names_) old_.push_back(node().whereis(n).value_or(Pid{}));
    ups_.clear();
    waiting_ = true;
    t0_ = now_ns();
    const auto victim = node().whereis(victim_);  // gen_server:cast(Name, crash) looks the name up too
    if (!victim) return fail("no process registered as " + victim_);
    cast(*victim, Term("crash"));
  }

  /// Calls every worker by name, then checks and records the round.
  Task verify() {
    std::vector<Pid> called;
    called.reserve(names_.size());
    for (const auto& n : names_) {
      const auto pid = node().whereis(n);
      if (!pid) co_return fail("no process registered as " + n + " after the restart");
      CallOutcome o = co_await call(*pid, Term("ping"));
      if (!o.ok() || !o.value.is("pong")) co_return fail("ping of " + n + " failed: " + noexpp::to_string(o.status));
      called.push_back(*pid);
    }
    const std::int64_t t1 = now_ns();
    for (std::size_t i = 0; i < called.size(); ++i) {
      bool fresh = called[i] != old_[i];
      bool announced = false;
      for (const Pid& p : ups_) announced = announced || p == called[i];
      for (const Pid& p : old_) fresh = fresh && p != called[i];
      if (!fresh || !announced) co_return fail(names_[i] + " answered from a pid that is not a restarted one");
    }
    if (++rounds_ > warmup_) samples_.push_back(t1 - t0_);
    if (static_cast<std::int64_t>(samples_.size()) < n_) {
      crash_once();
      co_return;
    }
    const auto count = static_cast<std::int64_t>(samples_.size());
    const std::int64_t p50 = percentile(samples_, 50);
    const std::int64_t p99 = percentile(samples_, 99);
    reply(from_, Term::tuple({Term("ok"), Term(p50), Term(p99), Term(count)}));
  }

  void fail(const std::string& why) {
    waiting_ = false;
    reply(from_, Term::tuple({Term("error"), Term(why)}));
  }

  std::vector<std::string> names_;
  std::string victim_;
  std::int64_t warmup_ = 0;
  std::int64_t n_ = 0;
  From from_{};
  std::vector<std::int64_t> samples_;
  std::int64_t rounds_ = 0;
  std::vector<Pid> old_;
  std::vector<Pid> ups_;
  bool waiting_ = false;
  std::int64_t t0_ = 0;
};

struct Series {
  std::string p50;  // metric names
  std::string p99;
  sup::Strategy strategy;
  int workers;       // registered as "worker" (1) or w1..wK
  int victim;        // index into the names
  std::int64_t warmup;
  std::int64_t n;    // measured crashes
  bool logged;
};

/// One series on a fresh node; false (with a note) if it failed.
bool run_series(const Config& cfg, const Series& s) {
  std::unique_ptr<StderrToFile> redirect;
  if (s.logged) {
    redirect = std::make_unique<StderrToFile>();
    if (!redirect->ok()) {
      note("cannot redirect stderr to a temporary file; " + s.p50 + " skipped");
      return false;
    }
  }
  noexpp::set_log_level(s.logged ? "error" : "off");

  auto node = noexpp::Node::create(noexpp::NodeOptions{.name = "bench", .threads = cfg.threads});
  node->start();
  bool ok = false;
  std::string why;
  std::int64_t p50 = 0, p99 = 0, count = 0;
  auto harness = node->spawn(factory_of<RestartHarness>(), Term());
  if (!harness) {
    why = "harness spawn failed: " + harness.error().to_string();
  } else {
    std::vector<Term> names;
    sup::SupervisorSpec spec;
    spec.strategy = s.strategy;
    spec.max_restarts = 1'000'000;  // intensity 1000000 per second, as the anchor
    spec.within = std::chrono::seconds(1);
    for (int i = 1; i <= s.workers; ++i) {
      std::string name = "worker";
      if (s.workers > 1) name = std::string("w").append(std::to_string(i));
      names.emplace_back(name);
      sup::ChildSpec child;
      child.id = name;
      child.behavior = factory_of<SupWorker>();
      child.behavior_name = "bench_srv";
      child.args = Term::tuple({Term(name), Term(harness.value())});
      child.restart = sup::RestartType::permanent;
      child.name = name;
      spec.children.push_back(std::move(child));
    }
    auto supervisor = sup::start_supervisor(node, std::move(spec));
    if (!supervisor) {
      why = "start_supervisor failed: " + supervisor.error().to_string();
    } else {
      CallOutcome o = node->call(harness.value(),
                                 Term::tuple({Term("run"), Term::list(std::move(names)), Term(s.victim),
                                              Term(s.warmup), Term(s.n)}),
                                 kRunTimeout);
      if (!o.ok()) {
        why = std::string("harness call failed: ") + noexpp::to_string(o.status);
      } else if (!o.value.is_tuple() || !o.value.as_tuple().items.at(0).is("ok")) {
        why = "harness: " + o.value.to_string();
      } else {
        const auto& items = o.value.as_tuple().items;
        p50 = items.at(1).as_int();
        p99 = items.at(2).as_int();
        count = items.at(3).as_int();
        ok = true;
      }
      supervisor.value().stop();
    }
  }
  node->stop();
  noexpp::set_log_level("warning");
  const std::int64_t logged_bytes = redirect ? redirect->bytes_written() : 0;
  redirect.reset();  // notes below reach the real stderr either way
  if (!ok) {
    note(s.p50 + " failed: " + why);
    return false;
  }
  if (s.logged)
    note(s.p50 + ": " + std::to_string(count) + " measured crashes, " + std::to_string(logged_bytes) +
         " bytes of log written (" +
         std::to_string(logged_bytes / (count + s.warmup > 0 ? count + s.warmup : 1)) + " per crash)");
  out(cfg, s.p50, static_cast<double>(p50) / 1e3, "us");
  out(cfg, s.p99, static_cast<double>(p99) / 1e3, "us");
  return true;
}

}  // namespace

bool run_sup_restart(const Config& cfg) {
  const std::int64_t restarts = cfg.iterations(1000);  // c_restart.erl ?N
  const std::int64_t rounds = cfg.iterations(100);     // g_one_for_all.erl ?N
  const Series all[] = {
      {"sup_restart_p50_cpp", "sup_restart_p99_cpp", sup::Strategy::one_for_one, 1, 0, 10, restarts, false},
      {"sup_restart_p50_cpp_logged", "sup_restart_p99_cpp_logged", sup::Strategy::one_for_one, 1, 0, 10, restarts,
       true},
      {"one_for_all_10_p50_cpp", "one_for_all_10_p99_cpp", sup::Strategy::one_for_all, 10, 4, 5, rounds, false},
      {"one_for_all_10_p50_cpp_logged", "one_for_all_10_p99_cpp_logged", sup::Strategy::one_for_all, 10, 4, 5,
       rounds, true},
  };
  bool ok = true;
  for (const auto& s : all)
    if (cfg.wants_any({s.p50, s.p99})) ok = run_series(cfg, s) && ok;
  return ok;
}

}  // namespace noexpp_bench
