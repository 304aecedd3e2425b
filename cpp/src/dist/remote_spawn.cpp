// Remote spawn, both sides: the spawner's request (with its own deadline, so
// that a late answer still finds its completion and stops the late child)
// and the spawn node request that answers it.
#include "dist/remote_spawn.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>

#include "core/internal/executor.hpp"
#include "core/internal/node_internals.hpp"
#include "noexpp/behavior_registry.hpp"
#include "noexpp/dist/remote_spawn.hpp"

namespace noexpp::dist {
namespace {

constexpr const char* kSpawn = "spawn";

/// What the spawner and the answer's completion share: whoever comes second
/// (a timed-out spawner, or a late answer) cleans up after the other.
struct SpawnWait {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<Term>> answer;
  bool abandoned = false;
};

}  // namespace

Result<Pid> spawn(Node& node, const std::string& node_id, const std::string& behavior, Term args,
                  const std::string& name, Duration timeout) {
  auto* cluster = cluster::cluster_of(node);
  if (!cluster) return Error{Errc::no_connection, "node " + node.id() + " does not listen (created with listen=None)"};
  if (!cluster->node_pid(node_id))
    return Error{Errc::no_connection, "node " + node_id + " is not connected to " + node.id()};
  auto wait = std::make_shared<SpawnWait>();
  std::weak_ptr<Node> weak = node.shared_from_this();
  // No deadline on the request itself: the answer is awaited until it comes
  // or the node is lost, so a late child is always found and stopped.
  cluster->request_async(node_id, Term::tuple({Term(kSpawn), Term(behavior), std::move(args), name.empty() ? Term() : Term(name)}),
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
  if (!answer) return Error{Errc::call_timeout, "spawn of '" + behavior + "' on " + node_id + " did not answer in time"};
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

void serve_remote_spawn(Node& node, cluster::Cluster& cluster) {
  cluster.add_request_handler(kSpawn, [&node](const Term& request) -> cluster::RequestAnswer {
    // The factory comes from this OS process's behavior registry; args
    // arrive as Terms.
    const auto& behavior = request.at(1);
    if (!behavior.is_string()) return Error{Errc::invalid_argument, "spawn needs a behavior name"};
    auto entry = BehaviorRegistry::instance().find(behavior.as_string());
    if (!entry)
      return Error{Errc::behavior_not_found,
                   "no behavior registered as '" + behavior.as_string() + "' on node " + node.id()};
    SpawnOptions opts;
    if (request.at(3).is_string()) opts.name = request.at(3).as_string();
    auto pid = node.spawn(entry->factory, request.at(2), opts);
    if (!pid) return Error{pid.error().code, pid.error().detail + " (on node " + node.id() + ")"};
    cluster::RequestAnswer answer{Term(pid.value())};
    // An answer that cannot reach the spawner (its node went away meanwhile)
    // would leave an orphan: stop the child instead.
    answer.if_undelivered = [&node, child = pid.value()] { node.stop_async(child, ExitReason::shutdown()); };
    return answer;
  });
}

}  // namespace noexpp::dist
