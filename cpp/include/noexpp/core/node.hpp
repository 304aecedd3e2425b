#pragma once
/// A node: engine threads, the process table, timers and the local registry.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "noexpp/cluster/cluster_options.hpp"
#include "noexpp/core/behavior.hpp"
#include "noexpp/core/error.hpp"
#include "noexpp/core/events.hpp"
#include "noexpp/core/executor.hpp"
#include "noexpp/core/fwd.hpp"
#include "noexpp/core/pending_calls.hpp"
#include "noexpp/core/registry.hpp"

namespace noexpp {
namespace cluster {
class Cluster;
}
namespace dist {
class GlobalRegistry;
}

struct NodeOptions {
  std::string name = "nonode";
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  ///< with cluster.listen: 0 = any free port, reported in id()
  int threads = 2;
  ClusterOptions cluster;  ///< distribution (off unless cluster.listen)
};

struct SpawnOptions {
  std::string name;       ///< register locally under this name ("" = none)
  Pid link_to;            ///< link the new process to this one (nil = none)
  /// Consulted in the process when a handler raises (not init or terminate):
  /// true resumes it, keeping its state and going on with its next message
  /// (a supervisor's "resume" directive); false lets it crash. Runs on the
  /// process's thread.
  std::function<bool(const ExitReason&)> on_crash;
  /// The supervisor that started it (nil = none). Node::stop leaves such a
  /// process to its supervisor, which stops its children in reverse order.
  Pid parent;
};

struct ProcessInfo {
  Pid pid;
  std::string name;
  std::string behavior;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  static std::shared_ptr<Node> create(NodeOptions options);
  /// As create, with a custom deleter (the bindings delete a node with the
  /// GIL released, since stopping it joins threads that may need the GIL).
  static std::shared_ptr<Node> create(NodeOptions options, void (*deleter)(Node*));
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Starts the engine threads and, when distributed, the network thread
  /// (listening, connecting to the seeds).
  void start();
  /// Stops every process within `grace`, then the engine threads: first the
  /// processes no supervisor owns (shutdown, terminate called, newest first;
  /// supervisors stop their own children in reverse order), then whatever
  /// is left. Spawns fail from the start of stop. Idempotent.
  /// Thread: any (from an engine thread it finishes on another thread).
  void stop(Duration grace = std::chrono::seconds(5));
  bool running() const { return running_.load(std::memory_order_acquire); }
  /// Stops the node as a crash looks to its peers: connections close at
  /// once without a goodbye (LocalCluster.kill in threads mode), then the
  /// processes stop. Thread: any.
  void abort();

  /// "name@host:port". Thread: any.
  const std::string& id() const { return id_; }
  /// The pseudo-pid of the node itself (serial 0).
  Pid node_pid() const { return Pid{name_index_, creation_, 0}; }
  bool is_local(Pid p) const { return p.node == name_index_ && p.creation == creation_; }
  Executor& executor() { return executor_; }

  // ---- processes ----
  /// Starts a process and runs its init on the calling thread; init errors
  /// come back as Errc::init_failed with the reason. Thread: any.
  Result<Pid> spawn(const BehaviorFactory& factory, const Term& args, const SpawnOptions& opts = {});
  bool alive(Pid p) const;
  std::size_t process_count() const;
  std::vector<ProcessInfo> processes() const;

  // ---- messages ----
  bool send(Pid to, Term message);
  bool cast(Pid to, Term request);
  /// send (or cast, with `as_cast`) that reports why a message could not
  /// leave this node: Errc::message_too_large for a remote target past the
  /// frame maximum. ok(false) when the target is known to be gone.
  Result<bool> send_message(Pid to, Term message, bool as_cast);
  /// Blocking call; on an engine thread a spare thread stands in meanwhile.
  CallOutcome call(Pid to, Term request, Duration timeout = kDefaultCallTimeout);
  /// Non-blocking call: `done` runs exactly once, on some engine thread (or
  /// inline when the call fails at once). Returns the call's reference, or 0
  /// when it already completed. `timeout` may be kInfinity.
  std::uint64_t call_async(Pid to, Term request, Duration timeout, Completion done);
  /// As call_async, for a caller that will block waiting for the outcome: if
  /// the target is idle, this thread runs its batch at once ("caller runs"),
  /// saving two thread wake-ups. Only off engine threads. Thread: any.
  std::uint64_t call_async_here(Pid to, Term request, Completion done);
  /// Starts call `ref` (from pending().reserve_ref()); the outcome goes to `waiter`.
  void call_with_ref(std::uint64_t ref, Pid to, Term request, Duration timeout, CallWaiterRef waiter,
                     bool run_here = false);
  /// Abandons an open call (the caller gave up); false if it already completed.
  bool cancel_call(std::uint64_t ref) { return pending_.cancel(ref); }
  /// Completes a call (from handle_call's NoReply, from any thread).
  void reply(const From& to, Term value);

  // ---- exits, links, monitors ----
  /// Sends an exit signal, as erlang:exit/2. A trapping process gets it as
  /// an EXIT message; otherwise an abnormal reason kills it.
  bool exit(Pid target, ExitReason reason, Pid from = {});
  /// A supervisor's shutdown request: like exit(), but a process that does
  /// not trap exits runs terminate(reason) before it exits. With `run_here`
  /// an idle target handles it on this thread at once (the caller is about
  /// to wait for the exit anyway: no thread hand-offs). Thread: any.
  bool shutdown(Pid target, ExitReason reason, Pid from = {}, bool run_here = false);
  /// erlang:exit(Pid, kill): untrappable; the process exits with `killed`
  /// without running terminate.
  bool kill(Pid target, Pid from = {}, bool run_here = false);
  /// gen_server:stop: asks `target` to terminate with `reason`, waits up to
  /// `timeout` for it to exit. Errc::no_process / call_timeout on failure.
  Result<bool> stop_process(Pid target, ExitReason reason, Duration timeout);
  /// As stop_process without waiting: the request is handled in mailbox
  /// order, after what was sent to `target` before. Thread: any.
  bool stop_async(Pid target, ExitReason reason);
  /// Calls `cb(pid, reason)` once when `target` exits (at once, noproc, if
  /// it does not exist). Returns the monitor reference.
  std::uint64_t monitor(Pid target, std::function<void(Pid, const ExitReason&)> cb);
  std::uint64_t monitor_by(Pid watcher, Pid target);
  void demonitor(Pid target, std::uint64_t ref);
  void link(Pid a, Pid b);
  void unlink(Pid a, Pid b);

  // ---- timers ----
  TimerRef send_after(Pid to, Duration delay, Term message);
  bool cancel_timer(TimerRef t);

  // ---- registry ----
  Registry& registry() { return registry_; }
  std::optional<Pid> whereis(const std::string& name) const { return registry_.whereis(name); }

  // ---- lifecycle events ----
  EventBus& events() { return events_; }

  PendingCalls& pending() { return pending_; }
  std::shared_ptr<Process> find(Pid p) const;

  // ---- cluster ----
  /// The node's distribution, or null when it does not listen.
  cluster::Cluster* cluster() { return cluster_.get(); }
  /// The cluster-wide names, or null when the node does not listen.
  dist::GlobalRegistry* global_registry() { return global_.get(); }
  /// On another node, which this one reaches over its cluster. Thread: any.
  bool is_remote(Pid p) const;
  /// A peer incarnation went down: every link to its processes breaks with
  /// noconnection. Thread: any (the network thread calls it).
  void peer_down(std::uint32_t node, std::uint32_t creation);

 private:
  friend class Process;
  friend class cluster::Cluster;
  explicit Node(NodeOptions options);
  /// Drops `p` from the table and hands back the table's reference.
  std::shared_ptr<Process> remove_process(Pid p);
  /// Routes to a local mailbox, or over the cluster to another node.
  bool deliver(Pid to, Envelope* e);

  /// As deliver, but an idle target runs on this thread (Process::deliver's run_here).
  bool deliver_here(Pid to, Envelope* e);
  /// Sends a shutdown stop to the processes `which` selects and waits until
  /// they have exited or `deadline` passed.
  void stop_processes(const std::function<bool(const Process&)>& which,
                      std::chrono::steady_clock::time_point deadline);

  NodeOptions options_;
  // Before id_: it binds the listener, and a node id names the bound port.
  std::unique_ptr<cluster::Cluster> cluster_;
  std::unique_ptr<dist::GlobalRegistry> global_;  // set in the constructor when cluster_ is
  std::string id_;
  std::uint32_t name_index_;
  std::uint32_t creation_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> aborted_{false};
  std::atomic<std::uint64_t> next_serial_{1};
  std::atomic<std::uint64_t> next_ref_{1};
  Executor executor_;
  PendingCalls pending_;
  Registry registry_;
  EventBus events_{executor_};

  struct TableShard {
    mutable std::mutex mu;
    std::unordered_map<std::uint64_t, std::shared_ptr<Process>> procs;
  };
  static constexpr std::size_t kTableShards = 16;
  std::array<TableShard, kTableShards> table_;
  TableShard& shard(std::uint64_t serial) const {
    return const_cast<TableShard&>(table_[serial % kTableShards]);
  }

  std::mutex empty_mu_;  // with empty_cv_: stop() waits for processes to exit
  std::condition_variable empty_cv_;
  // Process exits under way (Process::exit has begun, not finished): stop()
  // waits for them too, so what they do last (monitor callbacks, events) happens
  // before the engine threads stop.
  std::atomic<int> exiting_{0};
  void exit_began() { exiting_.fetch_add(1, std::memory_order_acq_rel); }
  void exit_ended();
  std::mutex timers_mu_;
  std::unordered_map<std::uint64_t, std::unique_ptr<asio::steady_timer>> timers_;
  // Declared after executor_: destroyed first, while the io_context lives.
};

/// Sets the level of the engine's logger: trace, debug, info, warning, error,
/// critical or off. False for an unknown level. Thread: any.
bool set_log_level(const std::string& level);

}  // namespace noexpp
