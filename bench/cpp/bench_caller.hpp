#pragma once
/// The calling process of the call and cast benchmarks, shared by the local
/// ones (local_msg.cpp: a_call.erl, b_cast.erl) and the distributed ones
/// (dist.cpp: e_dist.erl). As in Erlang, the caller is a process: a C++
/// GenServer whose handle_call starts a noexpp::Task coroutine that loops
/// `co_await call(server, ...)` and answers the driver once the loop is done.
/// The driver (main thread) only starts each loop and collects its result
/// with one blocking Node::call (run_loop). The server may be local or on
/// another node: the loops do not care.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <noexpp/node.hpp>

#include "bench_util.hpp"

namespace noexpp_bench {

using noexpp::CallOutcome;
using noexpp::CallReply;
using noexpp::From;
using noexpp::Pid;
using noexpp::Task;
using noexpp::Term;

// The driver waits for a whole loop (up to its time limit plus sorting); the
// drain call of the cast test waits behind every queued cast.
inline constexpr auto kLoopTimeout = std::chrono::seconds(300);

inline Term error_term(const CallOutcome& o) {
  std::string what = noexpp::to_string(o.status);
  if (o.ok()) what = "unexpected reply " + o.value.to_string();
  else if (o.status == noexpp::Errc::process_crashed) what += ": " + o.reason.to_string();
  return Term::tuple({Term("error"), Term(what)});
}

/// One blocking call "ping" from this (non-engine) thread; false (and a
/// note) unless the reply is "pong". The *_blocking benchmarks' unit of work.
inline bool blocking_ping(noexpp::Node& node, Pid server) {
  CallOutcome o = node.call(server, Term("ping"));
  if (!o.ok() || !o.value.is("pong")) {
    note("blocking call failed: " + error_term(o).to_string());
    return false;
  }
  return true;
}

/// The calling process. Requests (tuples), each answered when its loop ends:
///   ("rate", server, n, max_ns, timeout) -> ("ok", calls_done, elapsed_ns)
///        (timeout: "infinity" for calls without a timer, anything else = 5 s)
///   ("lat",  server, n, max_ns) -> ("ok", calls_done, p50_ns, p99_ns, p90_ns, p99.9_ns, max_ns)
///   ("cast", server, n)         -> ("ok", count_seen_by_server, elapsed_ns)
class Caller : public noexpp::GenServer {
 public:
  CallReply handle_call(const Term& request, const From& from) override {
    const auto& items = request.as_tuple().items;
    const Pid server = items.at(1).as_pid();
    const std::int64_t n = items.at(2).as_int();
    if (items.at(0).is("rate")) {
      const bool infinity = items.at(4).is("infinity");
      rate_loop(from, server, n, items.at(3).as_int(), infinity ? noexpp::kInfinity : noexpp::kDefaultCallTimeout);
    } else if (items.at(0).is("lat")) {
      latency_loop(from, server, n, items.at(3).as_int());
    } else if (items.at(0).is("cast")) {
      cast_burst(from, server, n);
    } else {
      return Term::tuple({Term("error"), Term("unknown request " + request.to_string())});
    }
    return CallReply::noreply();
  }
  std::string behavior_name() const override { return "bench_caller"; }

 private:
  /// bench_util:call_rate/3: untimed calls until n or max_ns, whichever first.
  /// Each call has gen_server's default 5 s timeout unless `timeout` says otherwise.
  Task rate_loop(From from, Pid server, std::int64_t n, std::int64_t max_ns, noexpp::Duration timeout) {
    const std::int64_t t0 = now_ns();
    const std::int64_t end = t0 + max_ns;
    std::int64_t done = 0;
    while (done < n) {
      CallOutcome o = co_await call(server, Term("ping"), timeout);
      if (!o.ok() || !o.value.is("pong")) {
        reply(from, error_term(o));
        co_return;
      }
      ++done;
      if (done % 10'000 == 0 && now_ns() > end) break;
    }
    reply(from, Term::tuple({Term("ok"), Term(done), Term(now_ns() - t0)}));
  }

  /// bench_util:call_lat/3: a steady_clock timestamp around every call.
  Task latency_loop(From from, Pid server, std::int64_t n, std::int64_t max_ns) {
    std::vector<std::int64_t> samples;
    samples.reserve(static_cast<std::size_t>(n));
    const std::int64_t end = now_ns() + max_ns;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t t0 = now_ns();
      CallOutcome o = co_await call(server, Term("ping"));
      const std::int64_t t1 = now_ns();
      if (!o.ok() || !o.value.is("pong")) {
        reply(from, error_term(o));
        co_return;
      }
      samples.push_back(t1 - t0);
      if (t1 > end) break;
    }
    const auto count = static_cast<std::int64_t>(samples.size());
    const std::int64_t p50 = percentile(samples, 50);
    const std::int64_t p99 = percentile(samples, 99);
    // For the notes on stderr: the shape of the tail.
    const std::int64_t p90 = percentile(samples, 90);
    const std::int64_t p999 = percentile(samples, 99.9);
    const std::int64_t max = samples.empty() ? 0 : samples.back();
    reply(from, Term::tuple({Term("ok"), Term(count), Term(p50), Term(p99), Term(p90), Term(p999), Term(max)}));
  }

  /// bench_util:cast_rate/2: n casts, then one call answered only after the
  /// server has handled all of them.
  Task cast_burst(From from, Pid server, std::int64_t n) {
    const std::int64_t t0 = now_ns();
    for (std::int64_t i = 0; i < n; ++i) cast(server, Term("inc"));
    CallOutcome o = co_await call(server, Term("count"), kLoopTimeout);
    const std::int64_t elapsed = now_ns() - t0;
    if (!o.ok() || !o.value.is_int()) {
      reply(from, error_term(o));
      co_return;
    }
    reply(from, Term::tuple({Term("ok"), o.value, Term(elapsed)}));
  }
};

/// Runs one loop of the caller process; the ("ok", ...) items, or empty after
/// printing why it failed.
inline std::vector<Term> run_loop(noexpp::Node& node, Pid caller, Term request) {
  CallOutcome o = node.call(caller, std::move(request), kLoopTimeout);
  if (!o.ok()) {
    note("caller loop failed: " + error_term(o).to_string());
    return {};
  }
  if (!o.value.is_tuple() || o.value.as_tuple().items.empty() || !o.value.as_tuple().items[0].is("ok")) {
    note("caller loop failed: " + o.value.to_string());
    return {};
  }
  return o.value.as_tuple().items;
}

}  // namespace noexpp_bench
