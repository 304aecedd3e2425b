#include "bench_util.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace noexpp_bench {

bool Config::wants(std::string_view metric) const {
  if (prefixes.empty()) return true;
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) {
    // A trailing '$' asks for the exact name ("local_call_rate_cpp$" leaves out *_blocking).
    if (!p.empty() && p.back() == '$') return metric == std::string_view(p).substr(0, p.size() - 1);
    return metric.substr(0, p.size()) == p;
  });
}

bool Config::wants_any(std::initializer_list<std::string_view> metrics) const {
  return std::any_of(metrics.begin(), metrics.end(), [&](std::string_view m) { return wants(m); });
}

std::int64_t percentile(std::vector<std::int64_t>& samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto n = static_cast<std::int64_t>(samples.size());
  // Erlang: lists:nth(max(1, min(N, round(P / 100 * N + 0.5))), Sorted), 1-based;
  // round/1 rounds halves away from zero, as std::llround does.
  const std::int64_t rank = std::max<std::int64_t>(1, std::min<std::int64_t>(n, std::llround(p / 100.0 * static_cast<double>(n) + 0.5)));
  return samples[static_cast<std::size_t>(rank - 1)];
}

void out(const Config& cfg, std::string_view metric, double value, std::string_view unit) {
  if (!cfg.wants(metric)) return;
  std::printf("%.*s %.3f %.*s\n", int(metric.size()), metric.data(), value, int(unit.size()), unit.data());
  std::fflush(stdout);
}

void out_int(const Config& cfg, std::string_view metric, std::int64_t value, std::string_view unit) {
  if (!cfg.wants(metric)) return;
  std::printf("%.*s %lld %.*s\n", int(metric.size()), metric.data(), static_cast<long long>(value),
              int(unit.size()), unit.data());
  std::fflush(stdout);
}

namespace {
int g_note_fd = STDERR_FILENO;  // the real stderr, also while StderrToFile is active
}  // namespace

void note(const std::string& text) {
  const std::string line = "noexpp_bench: " + text + "\n";
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(g_note_fd, line.data() + done, line.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
}

StderrToFile::StderrToFile() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/noexpp-bench-log-XXXXXX";
  file_fd_ = ::mkstemp(path.data());
  if (file_fd_ < 0) return;
  ::unlink(path.c_str());  // gone when closed; the writes still happen
  std::fflush(stderr);
  saved_fd_ = ::dup(STDERR_FILENO);
  if (saved_fd_ < 0 || ::dup2(file_fd_, STDERR_FILENO) < 0) {
    if (saved_fd_ >= 0) ::close(saved_fd_);
    saved_fd_ = -1;
    return;
  }
  g_note_fd = saved_fd_;
}

StderrToFile::~StderrToFile() {
  if (saved_fd_ >= 0) {
    std::fflush(stderr);
    ::dup2(saved_fd_, STDERR_FILENO);
    g_note_fd = STDERR_FILENO;
    ::close(saved_fd_);
  }
  if (file_fd_ >= 0) ::close(file_fd_);
}

std::int64_t StderrToFile::bytes_written() const {
  struct stat st {};
  if (file_fd_ < 0 || ::fstat(file_fd_, &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_size);
}

std::size_t heap_used_bytes() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

bool time_blocking_calls(const Config& cfg, const std::string& base, std::int64_t n, std::int64_t max_ns,
                         const std::function<bool()>& call, std::vector<std::int64_t>* latencies) {
  const std::string rate = base + "_rate_cpp_blocking", p50 = base + "_p50_cpp_blocking",
                    p99 = base + "_p99_cpp_blocking";
  if (cfg.wants(rate)) {
    const std::int64_t t0 = now_ns();
    const std::int64_t end = t0 + max_ns;
    std::int64_t done = 0;
    while (done < n) {
      if (!call()) return false;
      ++done;
      if (done % 10'000 == 0 && now_ns() > end) break;
    }
    out(cfg, rate, per_second(done, now_ns() - t0), "calls/s");
  }
  if (cfg.wants_any({p50, p99})) {
    std::vector<std::int64_t> samples;
    samples.reserve(static_cast<std::size_t>(n));
    const std::int64_t end = now_ns() + max_ns;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t t0 = now_ns();
      if (!call()) return false;
      const std::int64_t t1 = now_ns();
      samples.push_back(t1 - t0);
      if (t1 > end) break;
    }
    out(cfg, p50, us(percentile(samples, 50)), "us");
    out(cfg, p99, us(percentile(samples, 99)), "us");
    if (latencies) *latencies = std::move(samples);
  }
  return true;
}

}  // namespace noexpp_bench
