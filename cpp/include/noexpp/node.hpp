#pragma once
/// A node (DESIGN §1, §4): engine threads, the process table, local
/// delivery, timers and the local registry. Distribution is not part of the
/// core: a layer above attaches it as a module (cluster::create_node,
/// dist::create_node) and routes the pids that are not local; a node
/// without one is local only, as a non-distributed Erlang node.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "noexpp/behavior.hpp"
#include "noexpp/call.hpp"
#include "noexpp/error.hpp"
#include "noexpp/events.hpp"
#include "noexpp/fwd.hpp"

namespace noexpp {

struct NodeOptions {
  std::string name = "nonode";
  /// The host and port of the node id ("name@host:port"). A node in a
  /// cluster listens there (port 0: any free port, which the id then names).
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int threads = 2;
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
  /// Told the new pid once the process exists, before its init runs (so
  /// that it can be killed while init runs: remote spawn's timeout does).
  /// Runs on the spawning thread.
  std::function<void(Pid)> on_created;
};

struct ProcessInfo {
  Pid pid;
  std::string name;
  std::string behavior;
};

/// A part of a node that a layer above the core provides (the cluster, the
/// global registry). The node starts, stops and frees its modules with itself.
class NodeModule {
 public:
  virtual ~NodeModule() = default;
  /// A unique short name ("cluster", "global_registry"): Node::module finds it.
  virtual const char* name() const = 0;
  /// After the engine threads started, in attach order.
  virtual void start() {}
  /// A graceful Node::stop is about to stop the node's processes (not after
  /// abort): the last moment to tell peers what is leaving. In attach order.
  virtual void stopping() {}
  /// After the node's processes stopped, in reverse attach order; `graceful`
  /// is false after Node::abort (peers must see a crash, not a goodbye).
  virtual void stop(bool graceful) { (void)graceful; }
  /// First thing Node::abort does, before any process stops.
  virtual void abort() {}
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

  /// Starts the engine threads, then the modules. Thread: any.
  void start();
  /// Stops every process within `grace`, then the modules, then the engine
  /// threads: first the processes no supervisor owns (shutdown, terminate
  /// called, newest first; supervisors stop their own children in reverse
  /// order), then whatever is left; what still runs at the end of the
  /// grace is killed. Returns within `grace` plus half a second, even with
  /// a handler that never returns (its thread is left behind, and the node
  /// is then kept for the life of the OS process). Spawns fail from the
  /// start of stop. Idempotent. Thread: any (from an engine thread it
  /// finishes on another thread).
  void stop(Duration grace = std::chrono::seconds(5));
  bool running() const;
  /// Stops the node as a crash looks to its peers: the modules abort first
  /// (connections close at once without a goodbye), then the processes
  /// stop. Thread: any.
  void abort();

  /// "name@host:port". Thread: any.
  const std::string& id() const;
  /// The pseudo-pid of the node itself (serial 0).
  Pid node_pid() const;
  /// The one test of locality: this node, this incarnation.
  bool is_local(Pid p) const;
  int threads() const;
  /// True on one of this node's engine threads. Thread: any.
  bool on_engine_thread() const;

  // ---- processes ----
  /// Starts a process and runs its init on the calling thread; init errors
  /// come back as Errc::init_failed with the reason. Thread: any.
  Result<Pid> spawn(const BehaviorFactory& factory, const Term& args, const SpawnOptions& opts = {});
  /// A local process that has not exited (false for other nodes' pids).
  bool alive(Pid p) const;
  std::size_t process_count() const;
  std::vector<ProcessInfo> processes() const;

  // ---- messages (Thread: any) ----
  bool send(Pid to, Term message);
  bool cast(Pid to, Term request);
  /// send (or cast, with `as_cast`) that reports why a message could not
  /// leave this node: Errc::message_too_large for a remote target past the
  /// frame maximum; Errc::overloaded / Errc::mailbox_full when backpressure
  /// held it back for the cluster's overload_timeout (the caller waits up to
  /// that long first). ok(false) when the target is known to be gone; an
  /// unreachable node is silent (ok(false)), as in Erlang. send and cast
  /// wait the same way and return false where this returns an error.
  Result<bool> send_message(Pid to, Term message, bool as_cast);
  /// Blocking call; on an engine thread a spare thread stands in meanwhile.
  /// The engine times it out (a timeout fires up to 10 ms late); a timeout
  /// of zero or less is Errc::invalid_argument, wherever the target is.
  CallOutcome call(Pid to, Term request, Duration timeout = kDefaultCallTimeout);
  /// Non-blocking call: `done` runs exactly once, on some engine thread (or
  /// inline when the call fails at once). Returns the call's reference, or 0
  /// when it already completed. `timeout` may be kInfinity.
  using Completion = std::function<void(CallOutcome)>;
  std::uint64_t call_async(Pid to, Term request, Duration timeout, Completion done);
  /// Completes a call (from handle_call's NoReply, from any thread).
  void reply(const From& to, Term value);
  /// Calls still waiting for an outcome (tests and introspection).
  std::size_t open_calls() const;

  // ---- exits, links, monitors (Thread: any) ----
  /// Sends an exit signal, as erlang:exit/2. A trapping process gets it as
  /// an EXIT message; otherwise an abnormal reason kills it.
  bool exit(Pid target, ExitReason reason, Pid from = {});
  /// A supervisor's shutdown request: like exit(), but a process that does
  /// not trap exits runs terminate(reason) before it exits. With `run_here`
  /// an idle target handles it on this thread at once (the caller is about
  /// to wait for the exit anyway: no thread hand-offs).
  bool shutdown(Pid target, ExitReason reason, Pid from = {}, bool run_here = false);
  /// erlang:exit(Pid, kill): untrappable; the process exits with `killed`
  /// without running terminate.
  bool kill(Pid target, Pid from = {}, bool run_here = false);
  /// gen_server:stop: asks `target` to terminate with `reason`, waits up to
  /// `timeout` for it to exit. Errc::no_process / call_timeout /
  /// no_connection on failure, and Errc::process_crashed when it exited with
  /// another reason than `reason` (its terminate raised: that error is its
  /// exit reason, as in OTP). `exited_with`, if given, gets the reason it
  /// exited with.
  Result<bool> stop_process(Pid target, ExitReason reason, Duration timeout, ExitReason* exited_with = nullptr);
  /// As stop_process without waiting: the request is handled in mailbox
  /// order, after what was sent to `target` before.
  bool stop_async(Pid target, ExitReason reason);
  /// Calls `cb(pid, reason)` once when `target` exits (at once, noproc, if
  /// it does not exist). Returns the monitor reference.
  using MonitorCallback = std::function<void(Pid, const ExitReason&)>;
  std::uint64_t monitor(Pid target, MonitorCallback cb);
  /// A monitor held by process `watcher`: a DOWN message arrives in its
  /// handle_info when `target` exits.
  std::uint64_t monitor_by(Pid watcher, Pid target);
  void demonitor(Pid target, std::uint64_t ref);
  void link(Pid a, Pid b);
  void unlink(Pid a, Pid b);

  // ---- timers ----
  TimerRef send_after(Pid to, Duration delay, Term message);
  bool cancel_timer(TimerRef t);

  // ---- local names ----
  std::optional<Pid> whereis(const std::string& name) const;

  // ---- lifecycle events ----
  EventBus& events();

  // ---- modules ----
  /// Adds a module; the node starts, stops and frees it with itself. Thread:
  /// the creator, before start.
  void attach(std::shared_ptr<NodeModule> module);
  /// The attached module named `name`, or null. Thread: any.
  NodeModule* module(std::string_view name) const;

 private:
  friend class Process;
  friend class NodeInternals;
  explicit Node(NodeOptions options);
  /// Keeps a stopped node for the life of the OS process: an engine thread
  /// left inside a killed process's handler may still touch it.
  static void keep_forever(std::shared_ptr<Node> node);

  struct State;
  std::unique_ptr<State> s_;
};

/// Sets the level of the engine's logger: trace, debug, info, warning, error,
/// critical or off. False for an unknown level. Thread: any.
bool set_log_level(const std::string& level);

}  // namespace noexpp
