/// Spawning idle processes. There is no exact Erlang twin yet: d_sofo.erl
/// starts 10,000 bench_srv children through a simple_one_for_one supervisor
/// (sofo_start_10k, sofo_mem_per_child); supervisors arrive in a later issue,
/// and then sofo_*_cpp metrics replace these as the like-for-like figures.
/// Here the driver thread calls Node::spawn N times in a row; each spawn
/// runs BenchServer's init before returning, as supervisor:start_child waits
/// for init/1.
#include <cstdint>
#include <string>

#include <noexpp/node.hpp>

#include "bench_server.hpp"
#include "benchmarks.hpp"

namespace noexpp_bench {
namespace {

struct SpawnResult {
  bool ok = false;
  double ms = 0;
  std::int64_t heap_bytes = 0;  // growth of malloc'd bytes
  std::int64_t rss_bytes = 0;   // growth of the resident set
};

SpawnResult spawn_idle(const Config& cfg, std::int64_t n) {
  SpawnResult res;
  auto node = noexpp::Node::create(noexpp::NodeOptions{.name = "bench", .threads = cfg.threads});
  node->start();
  const auto factory = factory_of<BenchServer>();
  const std::size_t heap0 = heap_used_bytes();
  const std::size_t rss0 = rss_bytes();
  const std::int64_t t0 = now_ns();
  for (std::int64_t i = 0; i < n; ++i) {
    auto pid = node->spawn(factory, noexpp::Term());
    if (!pid) {
      note("spawn " + std::to_string(i) + " failed: " + pid.error().to_string());
      node->stop();
      return res;
    }
  }
  const std::int64_t t1 = now_ns();
  res.heap_bytes = static_cast<std::int64_t>(heap_used_bytes()) - static_cast<std::int64_t>(heap0);
  res.rss_bytes = static_cast<std::int64_t>(rss_bytes()) - static_cast<std::int64_t>(rss0);
  res.ms = static_cast<double>(t1 - t0) / 1e6;
  res.ok = node->process_count() >= static_cast<std::size_t>(n);
  if (!res.ok) note("process_count " + std::to_string(node->process_count()) + " < " + std::to_string(n));
  const std::int64_t s0 = now_ns();
  node->stop();
  note("stopping the node with " + std::to_string(n) + " processes took " +
       std::to_string(static_cast<double>(now_ns() - s0) / 1e6) + " ms");
  return res;
}

}  // namespace

bool run_spawn(const Config& cfg) {
  bool ok = true;
  if (cfg.wants("spawn_10k_cpp")) {
    const auto r = spawn_idle(cfg, 10'000);
    ok = r.ok;
    if (ok) out(cfg, "spawn_10k_cpp", r.ms, "ms");
  }
  // The per-process memory comes from the larger run, where fixed costs
  // (table growth, allocator slack) weigh least.
  if (ok && cfg.wants_any({"spawn_100k_cpp", "spawn_mem_per_process_cpp", "spawn_rss_per_process_cpp"})) {
    constexpr std::int64_t n = 100'000;
    const auto r = spawn_idle(cfg, n);
    ok = r.ok;
    if (ok) {
      out(cfg, "spawn_100k_cpp", r.ms, "ms");
      out_int(cfg, "spawn_mem_per_process_cpp", r.heap_bytes / n, "bytes");
      out_int(cfg, "spawn_rss_per_process_cpp", r.rss_bytes / n, "bytes");
    }
  }
  return ok;
}

}  // namespace noexpp_bench
