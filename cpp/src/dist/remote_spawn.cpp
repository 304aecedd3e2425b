// Remote spawn, both sides: the spawner's request, and the spawn node
// request that answers it. A spawn leaves no orphan: a spawner that times
// out has the child killed, even in the middle of its init, before the error
// is raised (OTP's proc_lib:start kills the child on timeout); a late answer
// finds its completion and stops the child; an answer that cannot reach the
// spawner stops it too.
#include "dist/remote_spawn.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <atomic>
#include <random>
#include <unordered_map>

#include "core/internal/executor.hpp"
#include "core/internal/node_internals.hpp"
#include "noexpp/behavior_registry.hpp"
#include "noexpp/dist/remote_spawn.hpp"

namespace noexpp::dist {
namespace {

constexpr const char* kSpawn = "spawn";          // ("spawn", behavior, args, name, token, placement)
constexpr const char* kCancel = "spawn_cancel";  // ("spawn_cancel", token) -> True once no child is left
/// How long the answering node waits for a cancelled spawn to make its process.
constexpr auto kCancelTimeout = std::chrono::seconds(5);
/// How long a timed-out spawner waits for the kill of its child (at most its
/// own timeout): a round trip to a node that is not frozen.
constexpr Duration kCancelGrace = std::chrono::seconds(1);

/// What the spawner and the answer's completion share: whoever comes second
/// (a timed-out spawner, or a late answer) cleans up after the other.
struct SpawnWait {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<Term>> answer;
  bool abandoned = false;
};

/// The answering node's spawns under way, by the spawner's token: a cancel
/// may come while the spawn request waits to run, while the process is
/// being created, or while its init runs.
class SpawnsInProgress {
 public:
  /// The spawn handler starts; false if it was cancelled before it ran.
  bool begin(std::uint64_t token) {
    std::lock_guard lk(mu_);
    auto& s = spawns_[token];
    if (s.cancelled) {
      spawns_.erase(token);
      return false;
    }
    s.running = true;
    return true;
  }
  /// The process exists (init about to run); true if it must be killed.
  bool created(std::uint64_t token, Pid pid) {
    std::lock_guard lk(mu_);
    auto& s = spawns_[token];
    s.pid = pid;
    cv_.notify_all();
    return s.cancelled;
  }
  /// The spawn handler is done (`pid`: its child, nil if none); true if the
  /// spawn was cancelled meanwhile.
  bool end(std::uint64_t token, Pid pid) {
    std::lock_guard lk(mu_);
    auto it = spawns_.find(token);
    const bool cancelled = it != spawns_.end() && it->second.cancelled;
    if (it != spawns_.end()) spawns_.erase(it);
    // A cancel may still come for an answer that was on its way.
    if (!cancelled && !pid.is_nil()) {
      finished_order_.push_back(token);
      finished_[token] = pid;
      if (finished_order_.size() > kFinishedKept) {
        finished_.erase(finished_order_.front());
        finished_order_.pop_front();
      }
    }
    cv_.notify_all();
    return cancelled;
  }
  /// Marks `token` cancelled and waits (bounded) until its process, if it
  /// gets one, exists: then the process to kill (nil: none was made, or none
  /// will be: the mark stops a spawn request that has not run yet).
  Pid cancel(std::uint64_t token, Duration bound) {
    std::unique_lock lk(mu_);
    if (auto f = finished_.find(token); f != finished_.end()) return f->second;
    spawns_[token].cancelled = true;
    cv_.wait_for(lk, bound, [&] {
      auto it = spawns_.find(token);
      return it == spawns_.end() || !it->second.running || !it->second.pid.is_nil();
    });
    auto it = spawns_.find(token);
    return it == spawns_.end() ? Pid{} : it->second.pid;
  }

 private:
  struct Spawn {
    bool running = false;
    bool cancelled = false;
    Pid pid;
  };
  static constexpr std::size_t kFinishedKept = 256;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::uint64_t, Spawn> spawns_;
  std::unordered_map<std::uint64_t, Pid> finished_;  // the last spawns answered, by token
  std::deque<std::uint64_t> finished_order_;
};

/// A token no other spawn of this OS process uses (a counter, mixed with a
/// random key by splitmix64's finalizer, so tokens of two processes differ).
/// No large thread-local generator: the engine's thread-locals live in the
/// small static TLS block of a library loaded at run time.
std::uint64_t fresh_token() {
  static const std::uint64_t key = (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t z = key + 0x9E3779B97F4A7C15ULL * counter.fetch_add(1, std::memory_order_relaxed);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// A placement as the spawn request carries it: (supervisor, key, epoch,
/// lease in microseconds, child id), or nil.
Term placement_term(const Placement* p) {
  if (!p) return Term();
  return Term::tuple({Term(p->child.supervisor), Term(static_cast<std::int64_t>(p->child.key)),
                      Term(static_cast<std::int64_t>(p->epoch)),
                      Term(static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(p->lease).count())),
                      Term(p->child.id)});
}

/// The placement of a spawn request; an error names the bad field. Bytes
/// from the network: every field is checked before use.
Result<std::optional<Placement>> placement_from(const Term& t) {
  if (t.is_nil()) return std::optional<Placement>{};
  const auto bad = [](const char* what) { return Error{Errc::invalid_argument, std::string("spawn placement: ") + what}; };
  if (!t.is_tuple() || t.as_tuple().items.size() != 5) return bad("not a 5-tuple");
  const auto& i = t.as_tuple().items;
  if (!i[0].is_pid() || i[0].as_pid().is_nil()) return bad("the supervisor is not a pid");
  if (!i[1].is_int() || !i[2].is_int() || !i[3].is_int()) return bad("key, epoch and lease must be integers");
  if (i[1].as_int() <= 0 || i[2].as_int() <= 0) return bad("key and epoch must be positive");
  // A lease of a microsecond up to a day: no supervisor asks for more.
  constexpr std::int64_t kMaxLeaseUs = 86'400'000'000;
  if (i[3].as_int() <= 0 || i[3].as_int() > kMaxLeaseUs) return bad("lease out of range");
  if (!i[4].is_string() || i[4].as_string().empty()) return bad("the child id is not a non-empty string");
  Placement p;
  p.child = {i[0].as_pid(), static_cast<std::uint64_t>(i[1].as_int()), i[4].as_string()};
  p.epoch = static_cast<std::uint64_t>(i[2].as_int());
  p.lease = std::chrono::microseconds(i[3].as_int());
  return std::optional<Placement>{std::move(p)};
}

Result<Pid> spawn_request(Node& node, const std::string& node_id, const std::string& behavior, Term args,
                          const std::string& name, const Placement* placement, Duration timeout) {
  auto* cluster = cluster::cluster_of(node);
  if (!cluster) return Error{Errc::no_connection, "node " + node.id() + " does not listen (created with listen=None)"};
  if (!cluster->node_pid(node_id))
    return Error{Errc::no_connection, "node " + node_id + " is not connected to " + node.id()};
  auto wait = std::make_shared<SpawnWait>();
  std::weak_ptr<Node> weak = node.shared_from_this();
  const auto token = fresh_token();
  // No deadline on the request itself: the answer is awaited until it comes
  // or the node is lost, so a late child is always found and stopped.
  cluster->request_async(node_id,
                         Term::tuple({Term(kSpawn), Term(behavior), std::move(args), name.empty() ? Term() : Term(name),
                                      Term(static_cast<std::int64_t>(token)), placement_term(placement)}),
                         kInfinity, [wait, weak](Result<Term> r) {
                           std::unique_lock lk(wait->mu);
                           if (wait->abandoned) {
                             lk.unlock();
                             auto n = weak.lock();
                             if (n && r && r.value().is_pid()) n->stop_async(r.value().as_pid(), ExitReason::shutdown());
                             return;
                           }
                           wait->answer = std::move(r);
                           wait->cv.notify_all();
                         });
  std::optional<Result<Term>> answer;
  {
    Executor::BlockingScope blocking(NodeInternals::executor(node));
    std::unique_lock lk(wait->mu);
    const auto deadline = timeout == kInfinity ? Deadline::max() : std::chrono::steady_clock::now() + timeout;
    wait->cv.wait_until(lk, deadline, [&] { return wait->answer.has_value(); });
    if (!wait->answer) wait->abandoned = true;
    answer = std::move(wait->answer);
  }
  if (!answer) {
    // Kill the child, as OTP's proc_lib:start does, and wait a grace for it
    // to be dead and its name free, so that the error means no child is
    // left: the cancel travels behind the spawn on the same connection. A
    // node too frozen to answer within the grace still gets the kill when it
    // continues; the spawner's timeout is kept (within the grace) meanwhile.
    const Duration grace = std::min<Duration>(timeout, kCancelGrace);
    cluster->request(node_id, Term::tuple({Term(kCancel), Term(static_cast<std::int64_t>(token))}), grace);
    return Error{Errc::call_timeout, "spawn of '" + behavior + "' on " + node_id + " did not answer in time"};
  }
  auto& r = *answer;
  if (!r) {
    // The spawn handler never fails with no_connection: that is the way there.
    if (r.error().code == Errc::no_connection)
      return Error{Errc::no_connection, "node " + node_id + " went down during the spawn of '" + behavior + "'"};
    return r.error();
  }
  if (!r.value().is_pid()) return Error{Errc::invalid_argument, "node " + node_id + " answered a spawn with no pid"};
  return r.value().as_pid();
}

}  // namespace

Result<Pid> spawn(Node& node, const std::string& node_id, const std::string& behavior, Term args,
                  const std::string& name, Duration timeout) {
  return spawn_request(node, node_id, behavior, std::move(args), name, nullptr, timeout);
}

Result<Pid> spawn_placed(Node& node, const std::string& node_id, const std::string& behavior, Term args,
                         const Placement& p, Duration timeout) {
  return spawn_request(node, node_id, behavior, std::move(args), "", &p, timeout);
}

void serve_remote_spawn(Node& node, cluster::Cluster& cluster, std::shared_ptr<ChildLeases> leases) {
  auto spawns = std::make_shared<SpawnsInProgress>();
  cluster.add_request_handler(kSpawn, [&node, spawns, leases](const Term& request) -> cluster::RequestAnswer {
    // The factory comes from this OS process's behavior registry; args
    // arrive as Terms.
    const auto& behavior = request.at(1);
    if (!behavior.is_string()) return Error{Errc::invalid_argument, "spawn needs a behavior name"};
    if (!request.at(4).is_int()) return Error{Errc::invalid_argument, "spawn needs a token"};
    const auto token = static_cast<std::uint64_t>(request.at(4).as_int());
    auto entry = BehaviorRegistry::instance().find(behavior.as_string());
    if (!entry)
      return Error{Errc::behavior_not_found,
                   "no behavior registered as '" + behavior.as_string() + "' on node " + node.id()};
    auto placed = placement_from(request.at(5));
    if (!placed) return placed.error();
    const auto& placement = placed.value();
    if (placement) {
      if (auto ok = leases->admit(placement->child, placement->epoch); !ok) return ok.error();
    }
    if (!spawns->begin(token)) {
      if (placement) leases->abandon(placement->child, placement->epoch);
      return Error{Errc::call_timeout, "the spawn was cancelled by its spawner"};
    }
    SpawnOptions opts;
    if (request.at(3).is_string()) opts.name = request.at(3).as_string();
    // Linked before its init runs: the supervisor hears of every exit.
    if (placement) opts.link_to = placement->child.supervisor;
    opts.on_created = [&node, spawns, token](Pid pid) {
      if (spawns->created(token, pid)) node.kill(pid);
    };
    auto pid = node.spawn(entry->factory, request.at(2), opts);
    if (spawns->end(token, pid ? pid.value() : Pid{}) && pid) {
      node.kill(pid.value());
      if (placement) leases->abandon(placement->child, placement->epoch);
      return Error{Errc::call_timeout, "the spawn was cancelled by its spawner"};
    }
    if (!pid) {
      if (placement) leases->abandon(placement->child, placement->epoch);
      return Error{pid.error().code, pid.error().detail + " (on node " + node.id() + ")"};
    }
    if (placement) leases->hold(placement->child, placement->epoch, pid.value(), placement->lease);
    cluster::RequestAnswer answer{Term(pid.value())};
    // An answer that cannot reach the spawner (its node went away meanwhile)
    // would leave an orphan: stop the child instead.
    answer.if_undelivered = [&node, child = pid.value(), placed = placement.has_value()] {
      // A placed child is killed: its supervisor will start it elsewhere.
      if (placed)
        node.kill(child);
      else
        node.stop_async(child, ExitReason::shutdown());
    };
    return answer;
  });
  cluster.add_request_handler(kCancel, [&node, spawns](const Term& request) -> cluster::RequestAnswer {
    if (!request.at(1).is_int()) return Error{Errc::invalid_argument, "spawn_cancel needs a token"};
    Executor::BlockingScope blocking(NodeInternals::executor(node));
    const Pid pid = spawns->cancel(static_cast<std::uint64_t>(request.at(1).as_int()), kCancelTimeout);
    // A kill is unconditional: dead at once, name free, even while init runs.
    if (!pid.is_nil()) node.kill(pid);
    return Term(true);
  });
}

}  // namespace noexpp::dist
