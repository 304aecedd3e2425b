#pragma once
/// The benchmark groups. Each runs on fresh nodes, prints the metrics of its
/// group that the config selects, and returns false if something failed
/// (the reason goes to stderr). No group asserts anything about timings.
#include "bench_util.hpp"

namespace noexpp_bench {

/// a_call.erl: local_call_rate_cpp, local_call_p50_cpp, local_call_p99_cpp,
/// plus the *_cpp_blocking variants (Node::call from a plain thread).
bool run_local_call(const Config& cfg);
/// b_cast.erl: local_cast_rate_cpp.
bool run_local_cast(const Config& cfg);
/// Plain spawn of idle processes: spawn_10k_cpp, spawn_100k_cpp,
/// spawn_mem_per_process_cpp (malloc'd bytes) and spawn_rss_per_process_cpp.
bool run_spawn(const Config& cfg);

}  // namespace noexpp_bench
