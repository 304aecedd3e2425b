/// Local call and cast benchmarks (a_call.erl and b_cast.erl of the anchor).
/// The caller is a process, as in Erlang: a C++ GenServer whose handle_call
/// starts a noexpp::Task coroutine that loops `co_await call(server, ...)` and
/// answers the driver once the loop is done (Caller in bench_caller.hpp,
/// shared with the distributed benchmarks of dist.cpp). The driver (main
/// thread) only starts each loop and collects its result with one blocking
/// Node::call.
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <noexpp/node.hpp>

#include "bench_caller.hpp"
#include "bench_server.hpp"
#include "benchmarks.hpp"

namespace noexpp_bench {
namespace {


constexpr std::int64_t kCalls = 1'000'000;           // a_call.erl ?N
constexpr std::int64_t kMaxNs = 5'000'000'000;       // a_call.erl ?MAX_NS
constexpr std::int64_t kWarmupCalls = 10'000;        // a_call.erl warm-up
constexpr std::int64_t kCasts = 2'000'000;           // b_cast.erl ?N

struct Started {
  std::shared_ptr<noexpp::Node> node;
  Pid server;
  Pid caller;
};

std::optional<Started> start_node(const Config& cfg) {
  Started s;
  s.node = noexpp::Node::create(noexpp::NodeOptions{.name = "bench", .threads = cfg.threads});
  s.node->start();
  auto server = s.node->spawn(factory_of<BenchServer>(), Term());
  auto caller = s.node->spawn(factory_of<Caller>(), Term());
  if (!server || !caller) {
    note("spawn failed: " + (server ? caller.error() : server.error()).to_string());
    s.node->stop();
    return std::nullopt;
  }
  s.server = server.value();
  s.caller = caller.value();
  return s;
}

/// The blocking variant: Node::call from the driver thread, which is not a
/// process, so every reply wakes a thread blocked outside the engine.
bool blocking_calls(const Config& cfg, noexpp::Node& node, Pid server, std::int64_t n) {
  auto ping = [&] { return blocking_ping(node, server); };
  for (std::int64_t i = 0; i < cfg.iterations(kWarmupCalls); ++i)
    if (!ping()) return false;

  return time_blocking_calls(cfg, "local_call", n, kMaxNs, ping);
}

}  // namespace

bool run_local_call(const Config& cfg) {
  const bool process_caller = cfg.wants_any(
      {"local_call_rate_cpp", "local_call_rate_cpp_notimeout", "local_call_p50_cpp", "local_call_p99_cpp"});
  const bool blocking = cfg.wants_any({"local_call_rate_cpp_blocking", "local_call_p50_cpp_blocking",
                                       "local_call_p99_cpp_blocking"});
  if (!process_caller && !blocking) return true;
  const std::int64_t n = cfg.iterations(kCalls);
  bool ok = true;

  if (process_caller) {
    auto s = start_node(cfg);
    if (!s) return false;
    auto loop = [&](const char* kind, std::int64_t count, Term timeout = Term()) {
      return run_loop(*s->node, s->caller,
                      Term::tuple({Term(kind), Term(s->server), Term(count), Term(kMaxNs), std::move(timeout)}));
    };
    ok = !loop("rate", kWarmupCalls).empty();
    if (ok && cfg.wants("local_call_rate_cpp")) {
      auto r = loop("rate", n);
      ok = !r.empty();
      if (ok) {
        out(cfg, "local_call_rate_cpp", per_second(r[1].as_int(), r[2].as_int()), "calls/s");
        note("local_call_rate_cpp: " + std::to_string(r[1].as_int()) + " calls");
      }
    }
    if (ok && cfg.wants("local_call_rate_cpp_notimeout")) {
      // Extra: the same loop with infinite call timeouts, i.e. without the
      // per-call timer, to show what arming and cancelling that timer costs.
      auto r = loop("rate", n, Term("infinity"));
      ok = !r.empty();
      if (ok) out(cfg, "local_call_rate_cpp_notimeout", per_second(r[1].as_int(), r[2].as_int()), "calls/s");
    }
    if (ok && cfg.wants_any({"local_call_p50_cpp", "local_call_p99_cpp"})) {
      auto r = loop("lat", n);
      ok = !r.empty();
      if (ok) {
        out(cfg, "local_call_p50_cpp", us(r[2].as_int()), "us");
        out(cfg, "local_call_p99_cpp", us(r[3].as_int()), "us");
        note("local_call_p50/p99_cpp: " + std::to_string(r[1].as_int()) + " timed calls");
      }
    }
    s->node->stop();
  }

  if (ok && blocking) {
    auto s = start_node(cfg);
    if (!s) return false;
    ok = blocking_calls(cfg, *s->node, s->server, n);
    s->node->stop();
  }
  return ok;
}

bool run_local_cast(const Config& cfg) {
  if (!cfg.wants("local_cast_rate_cpp")) return true;
  const std::int64_t n = cfg.iterations(kCasts);
  auto s = start_node(cfg);
  if (!s) return false;
  auto r = run_loop(*s->node, s->caller, Term::tuple({Term("cast"), Term(s->server), Term(n)}));
  bool ok = !r.empty();
  if (ok && r[1].as_int() != n) {
    note("cast count mismatch: server saw " + std::to_string(r[1].as_int()) + " of " + std::to_string(n));
    ok = false;
  }
  if (ok) out(cfg, "local_cast_rate_cpp", per_second(n, r[2].as_int()), "msgs/s");
  s->node->stop();
  return ok;
}

}  // namespace noexpp_bench
