#pragma once
/// The benchmark groups. Each runs on fresh nodes, prints the metrics of its
/// group that the config selects, and returns false if something failed
/// (the reason goes to stderr). No group asserts anything about timings.
#include <string>

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
/// c_restart.erl and g_one_for_all.erl: sup_restart_p50/p99_cpp and
/// one_for_all_10_p50/p99_cpp, each also as *_logged (crash logging to a file).
bool run_sup_restart(const Config& cfg);
/// d_sofo.erl: sofo_start_10k_cpp, sofo_terminate_10k_cpp,
/// sofo_shutdown_10k_cpp, sofo_mem_per_child_cpp.
bool run_sofo(const Config& cfg);
/// e_dist.erl, between two OS processes over 127.0.0.1: dist_call_rate_cpp,
/// dist_call_p50_cpp, dist_call_p99_cpp, dist_cast_rate_cpp, plus the
/// dist_call_*_cpp_blocking extras (Node::call from the driver thread).
/// Starts this executable again in --serve-node mode as the server node.
bool run_dist(const Config& cfg);
/// The --serve-node mode: a listening node named `name` (cookie `cookie`)
/// with the C++ bench_srv registered as behavior "bench_srv"; prints
/// `node <id> running`, runs until stdin closes or SIGTERM / SIGINT, then
/// stops the node. Returns the exit status.
int serve_node(const std::string& name, const std::string& cookie, int threads);

}  // namespace noexpp_bench
