#pragma once
/// A process: a mailbox, a behavior, and the state of its links and monitors.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "noexpp/behavior.hpp"
#include "core/link_set.hpp"
#include "core/mailbox.hpp"

namespace noexpp {

/// Someone to tell when a process exits: another process (gets a DOWN
/// message) or a callback (node.monitor from outside any process).
struct Monitor {
  std::uint64_t ref = 0;
  Pid watcher;  ///< nil when `callback` is used
  std::function<void(Pid, const ExitReason&)> callback;
};

class Process : public std::enable_shared_from_this<Process> {
 public:
  Process(Node& node, Pid pid, std::unique_ptr<GenServer> behavior, std::string name);
  ~Process();

  Pid pid() const { return pid_; }
  Node& node() const { return node_; }
  const std::string& registered_name() const { return name_; }
  std::string behavior_name() const { return behavior_->behavior_name(); }
  GenServer& behavior() { return *behavior_; }

  /// Runs init on the calling thread (the spawner waits for it anyway, as
  /// proc_lib does). On failure the process is torn down and the reason returned.
  std::optional<ExitReason> run_init(const Term& args);

  /// Enqueues an envelope; schedules a run if needed, or with `run_here`
  /// runs it on this thread (the caller is about to block anyway). False if
  /// the process has exited (the envelope will not be handled). Thread: any.
  /// With `only_if_fatal`, runs here only an exit signal that will end the
  /// process (it then runs no handler of the process's here).
  bool deliver(Envelope* e, bool run_here = false, bool only_if_fatal = false);
  /// True for an exit signal that ends this process when handled (a kill, or
  /// an abnormal plain signal while it does not trap exits). Thread: any.
  bool would_die_of(const Envelope& e) const;

  /// Adds a monitor; false if the process has already exited. Thread: any.
  bool add_monitor(Monitor m);
  void remove_monitor(std::uint64_t ref);
  /// Adds a link to `other`; false if this process has already exited.
  bool add_link(Pid other);
  /// Removes the link to `other`; false if there was none. Thread: any.
  bool remove_link(Pid other);
  /// The links to processes of node `node` incarnation `creation`, left in
  /// place (that node went down: each breaks with noconnection, as a link
  /// signal queued behind whatever that node sent before). Thread: any.
  std::vector<Pid> links_to(std::uint32_t node, std::uint32_t creation);
  bool alive() const { return !mailbox_.closed(); }

  /// Backpressure on messages from other nodes (DESIGN §6). Called after a
  /// peer's message was queued: once the process holds `limit` or more of
  /// them, route `route` (a connection) is told, once, that the mailbox is
  /// full, and every route told is told again when it has drained to half
  /// the limit or the process has exited. Thread: any.
  void note_peer_message(std::uint64_t route, std::int64_t limit);

  /// The process whose handler runs on this thread, or null. Thread: any.
  static Process* current();

  // Used by GenServer's helpers. Thread: the process's own run.
  void request_stop(ExitReason r) { stop_request_ = std::move(r); }
  /// From init: start nothing (OTP's `ignore`); see ignored().
  void request_ignore() { ignore_ = true; }
  /// run_init failed because init asked to be ignored (not an error).
  bool ignored() const { return ignore_; }
  /// Logs (rate-limited) and drops an unexpected message. Thread: own run.
  void drop_unexpected(const std::string& what);
  void request_continue(Term t) { continue_ = std::move(t); }
  void set_trap_exit(bool on) { trap_exit_.store(on, std::memory_order_release); }
  /// Killed (or stopped by a fatal exit signal) while one of its handlers
  /// ran: the process is dead for everyone, and whatever that handler still
  /// sends, replies, spawns or registers is dropped. Thread: any.
  bool abandoned() const { return abandoned_.load(std::memory_order_acquire); }
  void await_call(Pid to, Term request, Duration timeout, std::function<void(CallOutcome)> done,
                  std::coroutine_handle<> frame);
  void set_crash_hook(std::function<bool(const ExitReason&)> hook) { on_crash_ = std::move(hook); }
  /// The supervisor that started this process (nil if none); set before init.
  void set_parent(Pid p) { parent_ = p; }
  Pid parent() const { return parent_; }
  void track_timer(std::uint64_t id);
  void untrack_timer(std::uint64_t id);

 private:
  friend class Node;
  /// Posts a run; `run_next` for a process woken by a call or a reply.
  void schedule(bool run_next = false);
  void run();
  /// Handles one envelope; returns false once the process has exited.
  bool dispatch(Envelope& e);
  bool handle_exit_signal(Envelope& e);
  /// What a queued exit signal will do to this process, judged by its
  /// sender: kill it (a kill, or an abnormal plain signal to a process that
  /// does not trap exits), or nothing the sender must act on.
  struct FatalSignal {
    ExitReason reason;
    Pid link_from;  ///< a link's signal: only fatal while the link holds
  };
  std::optional<FatalSignal> fatal(const Envelope& e) const;
  /// The sender's half of a fatal signal to a busy process (DESIGN §2: kill
  /// is unconditional): claims the death and makes it visible at once (name
  /// released, out of the table, monitors, links and callers told), and
  /// lends the executor a thread if a handler holds one. The run finishes
  /// the exit when it gets to the signal. Thread: any.
  void die_from_signal(const FatalSignal& f);
  /// Tells monitors and links of the death.
  void announce_death(const ExitReason& reason, std::vector<Monitor> monitors, std::vector<Pid> links);
  /// Marks a run as under way (and ends it, returning a lent thread).
  void begin_run();
  void end_run();
  /// Runs a behavior callback, turning an exception into a crash; then any
  /// pending handle_continue and stop request. False once the process exited.
  template <class F>
  bool guarded(F&& f);
  bool after_callback();
  /// Tears the process down: terminate (if `call_terminate`), close the
  /// mailbox, fail queued calls, notify links and monitors, release the name.
  void exit(ExitReason reason, bool call_terminate);
  /// Tells the routes told "full" that there is room again, if the mailbox
  /// is down to the low mark or closed.
  void release_backpressure();

  Node& node_;
  const Pid pid_;
  std::unique_ptr<GenServer> behavior_;
  std::string name_;
  Mailbox mailbox_;
  // Owned by the run (never touched concurrently: the mailbox serialises runs).
  std::optional<Term> continue_;
  std::optional<ExitReason> stop_request_;
  bool ignore_ = false;
  // Unexpected messages: the last warning's time and those dropped since.
  std::chrono::steady_clock::time_point unexpected_window_{};  ///< start of the current second
  std::uint32_t unexpected_logged_ = 0;       ///< warnings in that second
  std::uint64_t unexpected_unlogged_ = 0;     ///< dropped without a warning since the last one
  /// What the handler now running was given: the crash report's "last
  /// message" (OTP's "Last message in was ..."). Points into the envelope
  /// being handled; valid during its dispatch.
  struct Handling {
    const char* what = nullptr;  ///< "call", "cast", "info", "DOWN", "EXIT", "init" ...
    const Term* term = nullptr;
    Pid from;
    const ExitReason* reason = nullptr;
    std::string describe() const;
  };
  Handling handling_;
  // Calls this process awaits (usually one): a vector keeps its capacity, so
  // the await path allocates nothing here.
  struct Await {
    std::uint64_t ref;
    std::function<void(CallOutcome)> done;
    std::coroutine_handle<> frame;  // destroyed if the process exits first
  };
  std::vector<Await> awaits_;
  std::vector<std::uint64_t> open_calls_;  // call refs received and not yet known answered
  std::vector<std::uint64_t> timers_;
  std::function<bool(const ExitReason&)> on_crash_;  // see SpawnOptions::on_crash
  Pid parent_;  // see SpawnOptions::parent
  std::atomic<bool> trap_exit_{false};  // written by the run, read by a fatal signal's sender
  bool exited_ = false;
  // A death claimed by a fatal signal's sender while the process was busy
  // (die_from_signal): the reason, and the table's reference to this
  // process, which the run frees once it has finished the exit.
  ExitReason death_reason_;             // guarded by the mailbox's links lock
  std::shared_ptr<Process> self_keep_;  // guarded by the mailbox's links lock
  std::atomic<bool> abandoned_{false};
  // Whether a run is under way, and whether the sender of a fatal signal
  // lent the executor a thread for it (the handler may never return).
  static constexpr int kRunningOnEngine = 1;
  static constexpr int kRunningElsewhere = 2;
  static constexpr int kCapacityLent = 4;
  std::atomic<int> run_state_{0};
  bool resumed_ = false;  // the last guarded callback crashed and was resumed
  ExitReason last_crash_;  // why, when resumed_
  // Backpressure on peers' messages: set while some route was told "full";
  // the low mark at which they are told there is room again.
  std::atomic<bool> backpressure_{false};
  std::atomic<std::int64_t> backpressure_low_{0};
  // Guarded by the mailbox's links lock (Mailbox::if_open / close).
  std::vector<std::uint64_t> backpressured_routes_;
  std::vector<Monitor> monitors_;
  LinkSet links_;
};

}  // namespace noexpp
