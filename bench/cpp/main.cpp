/// noexpp_bench: the C++ benchmark driver. Prints one `metric value unit`
/// line per metric on stdout and diagnostics on stderr; bench/run.py runs it
/// and bench/compare.py sets it beside the Erlang/OTP anchor.
///
///   noexpp_bench [--quick] [--threads N] [--list] [metric-prefix ...]
///   noexpp_bench --serve-node NAME --cookie COOKIE [--threads N]
///
/// The second form is the server node of the distributed benchmarks
/// (dist.cpp starts it as a child process).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <noexpp/node.hpp>

#include "bench_util.hpp"
#include "benchmarks.hpp"

namespace {

constexpr const char* kMetrics[] = {
    "local_call_rate_cpp",          "local_call_p50_cpp",          "local_call_p99_cpp",
    "local_call_rate_cpp_notimeout",
    "local_call_rate_cpp_blocking", "local_call_p50_cpp_blocking", "local_call_p99_cpp_blocking",
    "local_cast_rate_cpp",          "spawn_10k_cpp",               "spawn_100k_cpp",
    "spawn_mem_per_process_cpp",    "spawn_rss_per_process_cpp",
    "sup_restart_p50_cpp",          "sup_restart_p99_cpp",
    "sup_restart_p50_cpp_logged",   "sup_restart_p99_cpp_logged",
    "one_for_all_10_p50_cpp",       "one_for_all_10_p99_cpp",
    "one_for_all_10_p50_cpp_logged", "one_for_all_10_p99_cpp_logged",
    "sofo_start_10k_cpp",           "sofo_terminate_10k_cpp",
    "sofo_shutdown_10k_cpp",        "sofo_mem_per_child_cpp",
    "dist_call_rate_cpp",           "dist_call_p50_cpp",           "dist_call_p99_cpp",
    "dist_call_rate_cpp_blocking",  "dist_call_p50_cpp_blocking",  "dist_call_p99_cpp_blocking",
    "dist_cast_rate_cpp",
};

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: noexpp_bench [--quick] [--threads N] [--list] [metric-prefix ...]\n"
               "       noexpp_bench --serve-node NAME --cookie COOKIE [--threads N]\n"
               "  --quick       10x fewer calls, casts and measured restarts (counts in a name stay)\n"
               "  --threads N   engine threads per node (default 2)\n"
               "  --list        print the metric names and exit\n"
               "  metric-prefix run only the metrics whose names start with one of these;\n"
               "                a trailing '$' asks for the exact name (local_call_rate_cpp$)\n"
               "  --serve-node  run a listening node with the C++ bench_srv registered as\n"
               "                behavior \"bench_srv\"; prints 'node <id> running' and runs until\n"
               "                stdin closes or SIGTERM (the server of the dist_* benchmarks)\n");
}

}  // namespace

int main(int argc, char** argv) {
  noexpp_bench::Config cfg;
  std::string serve_name, cookie;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--serve-node" && i + 1 < argc) {
      serve_name = argv[++i];
    } else if (arg == "--cookie" && i + 1 < argc) {
      cookie = argv[++i];
    } else if (arg == "--quick") {
      cfg.quick = true;
    } else if (arg == "--threads" && i + 1 < argc) {
      cfg.threads = std::atoi(argv[++i]);
      if (cfg.threads < 1) {
        usage(stderr);
        return 2;
      }
    } else if (arg == "--list") {
      for (const char* m : kMetrics) std::printf("%s\n", m);
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      usage(stderr);
      return 2;
    } else {
      cfg.prefixes.emplace_back(arg);
    }
  }

  noexpp::set_log_level("warning");
  if (!serve_name.empty()) {
    if (cookie.empty()) {
      usage(stderr);
      return 2;
    }
    return noexpp_bench::serve_node(serve_name, cookie, cfg.threads);
  }
  bool ok = true;
  using Group = bool (*)(const noexpp_bench::Config&);
  for (const Group group : {noexpp_bench::run_local_call, noexpp_bench::run_local_cast, noexpp_bench::run_spawn,
                            noexpp_bench::run_sup_restart, noexpp_bench::run_sofo, noexpp_bench::run_dist}) {
    try {
      ok = group(cfg) && ok;
    } catch (const std::exception& e) {
      noexpp_bench::note(std::string("benchmark failed: ") + e.what());
      ok = false;
    }
  }
  return ok ? 0 : 1;
}
