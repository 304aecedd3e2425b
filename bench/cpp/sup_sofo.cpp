/// d_sofo.erl of the Erlang anchor: a simple_one_for_one supervisor with
/// permanent BenchServer children (bench_srv.erl's twin), driven from the
/// driver thread through the synchronous Supervisor handle, as d_sofo's main
/// process calls supervisor:start_child/2 and terminate_child/2.
///
///   sofo_start_10k_cpp       10,000 sequential start_child(args)
///   sofo_terminate_10k_cpp   10,000 sequential terminate_child(pid)
///   sofo_shutdown_10k_cpp    Supervisor::stop with 10,000 children (10,000
///                            more started untimed first), until it has exited
///   sofo_mem_per_child_cpp   growth of malloc'd bytes (mallinfo2, all arenas)
///                            over the 10,000 starts / 10,000: the child
///                            processes plus the supervisor's records
///
/// Crash logging is off; nothing on these paths logs at "info" or above
/// (no child crashes), so there are no *_logged variants.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <noexpp/node.hpp>
#include <noexpp/sup/supervisor.hpp>

#include "bench_server.hpp"
#include "benchmarks.hpp"

namespace noexpp_bench {
namespace {

using noexpp::Pid;
using noexpp::Term;
namespace sup = noexpp::sup;

constexpr std::int64_t kChildren = 10'000;  // d_sofo.erl ?N

double ms_since(std::int64_t t0) { return static_cast<double>(now_ns() - t0) / 1e6; }

bool start_n(sup::Supervisor& s, std::int64_t n, std::vector<Pid>* pids) {
  for (std::int64_t i = 0; i < n; ++i) {
    auto r = s.start_child(Term());
    if (!r) {
      note("start_child " + std::to_string(i) + " failed: " + r.error().to_string());
      return false;
    }
    if (pids) pids->push_back(r.value());
  }
  return true;
}

}  // namespace

bool run_sofo(const Config& cfg) {
  if (!cfg.wants_any({"sofo_start_10k_cpp", "sofo_terminate_10k_cpp", "sofo_shutdown_10k_cpp",
                      "sofo_mem_per_child_cpp"}))
    return true;
  noexpp::set_log_level("off");
  auto node = noexpp::Node::create(noexpp::NodeOptions{.name = "bench", .threads = cfg.threads});
  node->start();
  sup::SupervisorSpec spec;
  spec.strategy = sup::Strategy::simple_one_for_one;
  spec.max_restarts = 1'000'000;
  spec.within = std::chrono::seconds(1);
  sup::ChildSpec child;
  child.id = std::string(1, 'w');  // not = "w": GCC 12 -Wrestrict false positive
  child.behavior = factory_of<BenchServer>();
  child.behavior_name = "bench_srv";
  child.restart = sup::RestartType::permanent;
  spec.child_template = std::move(child);
  auto started = sup::start_supervisor(node, std::move(spec));
  bool ok = false;
  if (!started) {
    note("start_supervisor failed: " + started.error().to_string());
  } else {
    sup::Supervisor s = started.value();
    std::vector<Pid> pids;
    pids.reserve(kChildren);
    const std::size_t heap0 = heap_used_bytes();
    std::int64_t t0 = now_ns();
    ok = start_n(s, kChildren, &pids);
    const double start_ms = ms_since(t0);
    const std::size_t heap1 = heap_used_bytes();
    if (ok) {
      t0 = now_ns();
      for (const Pid& p : pids) {
        auto r = s.terminate_child(p);
        if (!r) {
          note("terminate_child failed: " + r.error().to_string());
          ok = false;
          break;
        }
      }
      const double terminate_ms = ms_since(t0);
      if (ok) {
        auto counts = s.count_children();
        if (!counts || counts.value().active != 0) {  // specs stays 1: the template (OTP)
          note("children left after terminating them all");
          ok = false;
        }
      }
      if (ok) {
        out(cfg, "sofo_start_10k_cpp", start_ms, "ms");
        out(cfg, "sofo_terminate_10k_cpp", terminate_ms, "ms");
        out_int(cfg, "sofo_mem_per_child_cpp",
                (static_cast<std::int64_t>(heap1) - static_cast<std::int64_t>(heap0)) / kChildren, "bytes");
      }
    }
    if (ok && cfg.wants("sofo_shutdown_10k_cpp")) {
      ok = start_n(s, kChildren, nullptr);
      if (ok) {
        t0 = now_ns();
        auto r = s.stop();
        const double shutdown_ms = ms_since(t0);
        if (!r || s.running()) {
          note("supervisor stop failed" + (r ? std::string() : ": " + r.error().to_string()));
          ok = false;
        } else {
          out(cfg, "sofo_shutdown_10k_cpp", shutdown_ms, "ms");
        }
      }
    }
    if (s.running()) s.stop();
  }
  node->stop();
  noexpp::set_log_level("warning");
  return ok;
}

}  // namespace noexpp_bench
