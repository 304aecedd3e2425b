#pragma once
/// Shared helpers of the benchmark driver: clock, percentiles, memory probes
/// and the `metric value unit` output. They mirror bench_util.erl of the
/// Erlang anchor (shared/anchors/erlang) so the numbers compare one to one.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace noexpp_bench {

/// Command-line settings shared by every benchmark.
struct Config {
  bool quick = false;                 ///< 10x fewer iterations where the count is not in the name
  int threads = 2;                    ///< engine threads per node
  std::vector<std::string> prefixes;  ///< metric-name prefixes to run (empty = all); "name$" = exactly name

  /// True when `metric` is selected by the prefixes (or no prefix was given).
  bool wants(std::string_view metric) const;
  /// True when any of `metrics` is selected.
  bool wants_any(std::initializer_list<std::string_view> metrics) const;
  /// `full` iterations, or a tenth of them with --quick.
  std::int64_t iterations(std::int64_t full) const { return quick ? full / 10 : full; }
};

/// Monotonic clock in nanoseconds, as erlang:monotonic_time(nanosecond).
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Nanoseconds as microseconds, and a count over nanoseconds as a rate per second.
inline double us(std::int64_t ns) { return static_cast<double>(ns) / 1e3; }
inline double per_second(std::int64_t count, std::int64_t ns) {
  return static_cast<double>(count) / (static_cast<double>(ns) / 1e9);
}

/// The P-th percentile by nearest rank, the same rule as bench_util:pct/2.
/// Sorts `samples` in place. Returns 0 for an empty vector.
std::int64_t percentile(std::vector<std::int64_t>& samples, double p);

/// Prints one `metric value unit` line on stdout (if the metric is selected)
/// and flushes, so a crash later still leaves the earlier lines.
void out(const Config& cfg, std::string_view metric, double value, std::string_view unit);
void out_int(const Config& cfg, std::string_view metric, std::int64_t value, std::string_view unit);

/// A diagnostic line on stderr (never on stdout, which is for metrics only).
/// While a StderrToFile is active, notes still go to the real stderr.
void note(const std::string& text);

/// Sends file descriptor 2 (where the engine's logger writes) to a fresh
/// temporary file for as long as it lives, so the `*_logged` runs pay for
/// writing real log lines to a file; restores fd 2 and deletes the file when
/// destroyed. Not reentrant (one at a time).
class StderrToFile {
 public:
  StderrToFile();
  ~StderrToFile();
  StderrToFile(const StderrToFile&) = delete;
  StderrToFile& operator=(const StderrToFile&) = delete;
  /// False if the redirection could not be set up (fd 2 is then unchanged).
  bool ok() const { return saved_fd_ >= 0; }
  /// Bytes written to the file so far.
  std::int64_t bytes_written() const;

 private:
  int file_fd_ = -1;
  int saved_fd_ = -1;
};

/// The blocking-call benchmarks' two loops over `call` (true = one call that
/// got its expected reply): a rate over `n` calls, stopped early after
/// `max_ns`, then up to `n` timed calls for the latency percentiles.
/// Emits `<base>_rate_cpp_blocking`, `<base>_p50_cpp_blocking` and
/// `<base>_p99_cpp_blocking` when selected; the sorted latency samples go to
/// `latencies` (if given). False if a call failed.
bool time_blocking_calls(const Config& cfg, const std::string& base, std::int64_t n, std::int64_t max_ns,
                         const std::function<bool()>& call, std::vector<std::int64_t>* latencies = nullptr);

/// Bytes currently allocated through malloc (all arenas, plus mmapped
/// chunks): mallinfo2().uordblks + hblkhd.
std::size_t heap_used_bytes();
/// Resident set size of this OS process in bytes (/proc/self/statm).
std::size_t rss_bytes();

}  // namespace noexpp_bench
