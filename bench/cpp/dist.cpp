/// Distributed call and cast benchmarks (e_dist.erl of the anchor), between
/// two OS processes over 127.0.0.1.
///
/// The server side is this same executable started as
/// `noexpp_bench --serve-node bench_b --cookie C --threads N` (serve_node):
/// a listening node with the C++ `bench_srv` twin registered as a behavior,
/// which prints `node <id> running` and runs until its stdin closes (its
/// parent went away) or SIGTERM / SIGINT, like the anchor's peer node with
/// its watchdog.
///
/// The client side (run_dist) is the anchor's node `bench_a`: it starts the
/// server process (posix_spawn of /proc/self/exe, no shell), connects to it,
/// spawns a `bench_srv` there by a call to the peer's node pseudo-pid
/// (("spawn", "bench_srv", (), nil), as rpc:call(B, bench_srv, start, [])),
/// and runs the loops of bench_caller.hpp from a local caller process:
///   10,000 warm-up calls; 100,000 untimed calls for dist_call_rate_cpp;
///   100,000 calls with a steady_clock reading around each for
///   dist_call_p50_cpp / dist_call_p99_cpp; then, to a fresh server,
///   500,000 casts followed by one `count` call for dist_cast_rate_cpp.
/// Each loop also stops after 60 s (e_dist.erl's ?MAX_NS). --quick divides
/// the counts by 10.
///
/// Extra (no Erlang twin): dist_call_{rate,p50,p99}_cpp_blocking, the same
/// call loops with the blocking Node::call from the driver thread (not a
/// process), to the same remote server: the reply then wakes the waiting
/// thread straight from the network thread, without the hop to an engine
/// thread that resuming a calling process takes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <noexpp/cluster/cluster.hpp>
#include <noexpp/dist/node.hpp>
#include <noexpp/dist/remote_spawn.hpp>
#include <noexpp/behavior_registry.hpp>
#include <noexpp/node.hpp>

#include "bench_caller.hpp"
#include "bench_server.hpp"
#include "benchmarks.hpp"

extern char** environ;

namespace noexpp_bench {
namespace {

constexpr std::int64_t kCalls = 100'000;              // e_dist.erl ?N_CALL
constexpr std::int64_t kCasts = 500'000;              // e_dist.erl ?N_CAST
constexpr std::int64_t kWarmupCalls = 10'000;         // e_dist.erl warm-up
constexpr std::int64_t kMaxNs = 60'000'000'000;       // e_dist.erl ?MAX_NS
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kStopGrace = std::chrono::seconds(10);
constexpr const char* kBehavior = "bench_srv";

std::string random_cookie() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) s.push_back(kHex[rd() % 16]);
  return s;
}

/// The server node process: started by start(), stopped (stdin closed, then
/// SIGKILL after kStopGrace) by stop() or the destructor, so it never
/// outlives the benchmark, also when the benchmark fails.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { stop(); }

  /// Starts `noexpp_bench --serve-node name ...` and waits for its id.
  bool start(const std::string& name, const std::string& cookie, int threads) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return fail("pipe2");
    if (::pipe2(out, O_CLOEXEC) != 0) {
      ::close(in[0]);
      ::close(in[1]);
      return fail("pipe2");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);    // dup2 clears O_CLOEXEC
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    const std::string threads_text = std::to_string(threads);
    std::vector<std::string> args = {"noexpp_bench", "--serve-node", name, "--cookie", cookie, "--threads", threads_text};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_fd_ = in[1];
    stdout_fd_ = out[0];
    if (rc != 0) {
      pid_ = -1;
      errno = rc;
      return fail("posix_spawn /proc/self/exe");
    }
    // Read "node <id> running".
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return fail_text("the server node did not report its id within 30 s");
      pollfd p{stdout_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return fail("poll");
      if (!(p.revents & (POLLIN | POLLHUP))) continue;
      char buf[256];
      const ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
      if (n <= 0) return fail_text("the server node exited before reporting its id");
      line.append(buf, static_cast<std::size_t>(n));
    }
    line.resize(line.find('\n'));
    const std::string prefix = "node ", suffix = " running";
    if (line.rfind(prefix, 0) != 0 || line.size() <= prefix.size() + suffix.size() ||
        line.compare(line.size() - suffix.size(), suffix.size(), suffix) != 0)
      return fail_text("unexpected first line from the server node: " + line);
    id_ = line.substr(prefix.size(), line.size() - prefix.size() - suffix.size());
    return true;
  }

  const std::string& id() const { return id_; }

  /// Closes its stdin (it stops gracefully) and reaps it; SIGKILL after kStopGrace.
  void stop() {
    if (stdin_fd_ >= 0) {
      ::close(stdin_fd_);
      stdin_fd_ = -1;
    }
    if (pid_ > 0) {
      const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
      int status = 0;
      for (;;) {
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_ || (r < 0 && errno != EINTR)) break;
        if (std::chrono::steady_clock::now() > deadline) {
          note("the server node did not stop within 10 s; killing it");
          ::kill(pid_, SIGKILL);
          while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
          }
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      pid_ = -1;
    }
    if (stdout_fd_ >= 0) {
      ::close(stdout_fd_);
      stdout_fd_ = -1;
    }
  }

 private:
  bool fail(const char* what) { return fail_text(std::string(what) + ": " + std::strerror(errno)); }
  bool fail_text(const std::string& what) {
    note("starting the server node failed: " + what);
    stop();
    return false;
  }

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string id_;
};

/// Stops a node when leaving the scope (also on an early return).
struct NodeStopper {
  std::shared_ptr<noexpp::Node> node;
  ~NodeStopper() {
    if (node) node->stop();
  }
};


/// The *_blocking extras: Node::call from this (non-engine) thread.
bool blocking_calls(const Config& cfg, noexpp::Node& node, Pid server) {
  auto ping = [&] { return blocking_ping(node, server); };
  for (std::int64_t i = 0; i < cfg.iterations(kWarmupCalls); ++i)
    if (!ping()) return false;
  std::vector<std::int64_t> samples;
  if (!time_blocking_calls(cfg, "dist_call", cfg.iterations(kCalls), kMaxNs, ping, &samples)) return false;
  if (!samples.empty())
    note("dist_call_p50/p99_cpp_blocking: " + std::to_string(samples.size()) + " timed calls; p90 " +
         std::to_string(us(percentile(samples, 90))) + " us, p99.9 " + std::to_string(us(percentile(samples, 99.9))) +
         " us, max " + std::to_string(us(samples.back())) + " us");
  return true;
}

/// rpc:call(B, bench_srv, start, []): a fresh bench_srv on the peer, by
/// remote spawn's public API (its wire request is remote spawn's business).
std::optional<Pid> spawn_remote(noexpp::Node& node, Pid peer) {
  auto pid = noexpp::dist::spawn(node, noexpp::node_name(peer.node), kBehavior, Term::tuple({}), "",
                                 std::chrono::seconds(10));
  if (!pid) {
    note("remote spawn failed: " + pid.error().detail);
    return std::nullopt;
  }
  return pid.value();
}

}  // namespace

int serve_node(const std::string& name, const std::string& cookie, int threads) {
  // SIGTERM / SIGINT are read from a signalfd; blocked before any engine
  // thread exists, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const int sfd = ::signalfd(-1, &signals, SFD_CLOEXEC);
  if (sfd < 0) {
    note(std::string("signalfd: ") + std::strerror(errno));
    return 1;
  }
  if (auto r = noexpp::register_behavior<BenchServer>(kBehavior); !r) {
    note("register_behavior failed: " + r.error().to_string());
    return 1;
  }
  noexpp::NodeOptions options;
  options.name = name;
  options.threads = threads;
  noexpp::cluster::ClusterOptions cluster_options;
  cluster_options.cookie = cookie;
  std::shared_ptr<noexpp::Node> node;
  try {
    node = noexpp::dist::create_node(options, cluster_options);
    node->start();
  } catch (const std::exception& e) {
    note(std::string("the server node cannot start: ") + e.what());
    return 1;
  }
  std::printf("node %s running\n", node->id().c_str());
  std::fflush(stdout);
  for (;;) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;  // SIGTERM / SIGINT
    if (fds[0].revents) {
      char buf[256];
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0 && !(n < 0 && errno == EINTR)) break;  // EOF: the parent went away
    }
  }
  node->stop();
  ::close(sfd);
  return 0;
}

bool run_dist(const Config& cfg) {
  const bool calls = cfg.wants_any({"dist_call_rate_cpp", "dist_call_p50_cpp", "dist_call_p99_cpp"});
  const bool blocking = cfg.wants_any(
      {"dist_call_rate_cpp_blocking", "dist_call_p50_cpp_blocking", "dist_call_p99_cpp_blocking"});
  const bool casts = cfg.wants("dist_cast_rate_cpp");
  if (!calls && !blocking && !casts) return true;

  const std::string cookie = random_cookie();
  ServerProcess server;
  if (!server.start("bench_b", cookie, cfg.threads)) return false;

  noexpp::NodeOptions options;
  options.name = "bench_a";
  options.threads = cfg.threads;
  noexpp::cluster::ClusterOptions cluster_options;
  cluster_options.cookie = cookie;
  NodeStopper local{noexpp::dist::create_node(options, cluster_options)};
  noexpp::Node& node = *local.node;
  node.start();
  if (auto r = noexpp::cluster::cluster_of(node)->connect_wait(server.id(), kConnectTimeout); !r) {
    note("connecting to " + server.id() + " failed: " + r.error().to_string());
    return false;
  }
  const auto peer = noexpp::cluster::cluster_of(node)->node_pid(server.id());
  if (!peer) {
    note("no node pid for " + server.id());
    return false;
  }
  auto caller = node.spawn(factory_of<Caller>(), Term());
  if (!caller) {
    note("spawn of the caller failed: " + caller.error().to_string());
    return false;
  }

  if (calls) {
    const auto srv = spawn_remote(node, *peer);
    if (!srv) return false;
    const std::int64_t n = cfg.iterations(kCalls);
    auto loop = [&](const char* kind, std::int64_t count) {
      return run_loop(node, caller.value(), Term::tuple({Term(kind), Term(*srv), Term(count), Term(kMaxNs), Term()}));
    };
    if (loop("rate", cfg.iterations(kWarmupCalls)).empty()) return false;
    if (cfg.wants("dist_call_rate_cpp")) {
      auto r = loop("rate", n);
      if (r.empty()) return false;
      out(cfg, "dist_call_rate_cpp", per_second(r[1].as_int(), r[2].as_int()), "calls/s");
      note("dist_call_rate_cpp: " + std::to_string(r[1].as_int()) + " calls");
    }
    if (cfg.wants_any({"dist_call_p50_cpp", "dist_call_p99_cpp"})) {
      auto r = loop("lat", n);
      if (r.empty()) return false;
      out(cfg, "dist_call_p50_cpp", us(r[2].as_int()), "us");
      out(cfg, "dist_call_p99_cpp", us(r[3].as_int()), "us");
      note("dist_call_p50/p99_cpp: " + std::to_string(r[1].as_int()) + " timed calls; p90 " +
           std::to_string(us(r[4].as_int())) + " us, p99.9 " + std::to_string(us(r[5].as_int())) + " us, max " +
           std::to_string(us(r[6].as_int())) + " us");
    }
  }

  if (blocking) {
    const auto srv = spawn_remote(node, *peer);
    if (!srv || !blocking_calls(cfg, node, *srv)) return false;
  }

  if (casts) {
    const auto srv = spawn_remote(node, *peer);  // a fresh server, as e_dist.erl
    if (!srv) return false;
    const std::int64_t n = cfg.iterations(kCasts);
    auto r = run_loop(node, caller.value(), Term::tuple({Term("cast"), Term(*srv), Term(n)}));
    if (r.empty()) return false;
    if (r[1].as_int() != n) {
      note("cast count mismatch: the server saw " + std::to_string(r[1].as_int()) + " of " + std::to_string(n));
      return false;
    }
    out(cfg, "dist_cast_rate_cpp", per_second(n, r[2].as_int()), "msgs/s");
  }
  return true;
}

}  // namespace noexpp_bench
