#include "core/tls.hpp"
#include "core/process.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <typeinfo>

#include "core/internal/log.hpp"
#include "core/internal/router.hpp"
#include "core/internal/utf8.hpp"
#include "core/node_state.hpp"

namespace noexpp {
namespace {

NOEXPP_TLS Process* tl_current = nullptr;
// Set by Task's promise when an exception escapes a coroutine segment; read
// by the process right after the callback that ran the segment.
NOEXPP_TLS std::exception_ptr tl_task_exception;

// Processes that exited during the current run on this thread: the process
// table dropped them, and they are freed when their run has returned.
NOEXPP_TLS std::vector<std::shared_ptr<Process>> tl_graveyard;

// Handlers per run before the process yields its thread to others.
constexpr int kBatch = 64;

// Exits of linked processes handled inline, one inside another (announce_death).
NOEXPP_TLS int tl_link_exit_depth = 0;
constexpr int kMaxLinkExitDepth = 8;

struct CurrentScope {
  Process* prev;
  explicit CurrentScope(Process* p) : prev(tl_current) { tl_current = p; }
  ~CurrentScope() { tl_current = prev; }
};

std::string type_name(const std::exception& e) {
  if (auto* h = dynamic_cast<const HandlerError*>(&e)) return h->type();
  int status = 0;
  const char* mangled = typeid(e).name();
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : mangled;
  std::free(demangled);
  return name;
}

// Runs `f`, returning the crash reason if it (or a coroutine it resumed) threw.
template <class F>
std::optional<ExitReason> capture_crash(F&& f) {
  try {
    f();
    if (tl_task_exception) std::rethrow_exception(std::exchange(tl_task_exception, nullptr));
  } catch (const HandlerError& e) {
    auto reason = ExitReason::error(e.type(), e.what());
    reason.traceback = utf8::prefix(e.traceback(), ExitReason::kMaxContext);
    return reason;
  } catch (const std::exception& e) {
    return ExitReason::error(type_name(e), e.what());
  } catch (...) {
    return ExitReason::error("unknown", "a non-standard exception was thrown");
  }
  return std::nullopt;
}

}  // namespace

void Task::promise_type::unhandled_exception() noexcept { tl_task_exception = std::current_exception(); }

Process* Process::current() { return tl_current; }

Process::Process(Node& node, Pid pid, std::unique_ptr<GenServer> behavior, std::string name)
    : node_(node), pid_(pid), behavior_(std::move(behavior)), name_(std::move(name)) {
  behavior_->process_ = this;
}

Process::~Process() = default;

namespace {

/// Frees the processes that exited since `mark` (runs can nest: a run may
/// run another process's batch, and each frees only its own dead).
void bury_since(std::size_t mark) {
  if (tl_graveyard.size() <= mark) return;
  std::vector<std::shared_ptr<Process>> dead(std::make_move_iterator(tl_graveyard.begin() + mark),
                                             std::make_move_iterator(tl_graveyard.end()));
  tl_graveyard.resize(mark);
}

}  // namespace

std::optional<ExitReason> Process::run_init(const Term& args) {
  CurrentScope scope(this);
  const auto graveyard_mark = tl_graveyard.size();
  begin_run();
  struct Ended {
    Process& p;
    ~Ended() { p.end_run(); }
  } ended{*this};
  behavior_->begin_batch();
  handling_ = {"init", &args, {}, nullptr};
  auto failure = capture_crash([&] { behavior_->init(args); });
  if (!failure && stop_request_) failure = std::exchange(stop_request_, std::nullopt);
  if (!failure && ignore_) failure = ExitReason::normal();  // OTP's ignore: exits normally, never ran
  if (!failure && abandoned()) failure = ExitReason::killed();  // killed while init ran: no process
  if (failure) {
    if (!abandoned())
      log().debug("process {} ({}) failed in init: {}", pid_.to_string(), behavior_name(), failure->to_string());
    exit(*failure, false);  // as OTP: terminate is not called when init fails
  }
  handling_ = {};  // `args` is the spawner's
  behavior_->end_batch();
  if (failure) {
    bury_since(graveyard_mark);  // the spawner still holds this process
    return failure;
  }
  // Until now the mailbox counted as scheduled; hand the process to the engine.
  if (continue_ || mailbox_.go_idle(true)) schedule();
  return std::nullopt;
}

bool Process::deliver(Envelope* e, bool run_here, bool only_if_fatal) {
  const bool run_next = e->wakes_for_reply();
  // Judged before the push: from then on the envelope is the run's.
  auto deadly = e->kind == Envelope::Kind::exit_signal ? fatal(*e) : std::nullopt;
  if (run_here && only_if_fatal) run_here = would_die_of(*e);
  switch (mailbox_.push(e)) {
    case Mailbox::Push::queued:
      // Busy (a run is under way or queued): a fatal signal kills it now,
      // not when the run gets to it.
      if (deadly) die_from_signal(*deadly);
      return true;
    case Mailbox::Push::queued_and_schedule:
      if (run_here) {
        auto keep = shared_from_this();  // run() may see this process exit
        run();
      } else {
        schedule(run_next);
      }
      return true;
    case Mailbox::Push::closed: return false;
  }
  return false;
}

void Process::schedule(bool run_next) {
  // The run holds the process alive: once its mailbox goes idle another
  // thread may run it to its exit (an exit signal) and drop the last
  // reference while this run is still finishing go_idle (seen by TSan).
  node_.s_->executor.post([self = shared_from_this()] { self->run(); }, run_next);
}

void Process::run() {
  CurrentScope scope(this);
  const auto graveyard_mark = tl_graveyard.size();
  begin_run();
  bool in_batch = false;
  bool alive = true;
  // Spin for more messages only on an engine thread (a caller running this
  // process inline would only delay itself) and only while no runnext task
  // waits (that may be the very partner that would send the next message).
  const bool on_engine = node_.s_->executor.on_engine_thread();
  const std::uint64_t posted_before = on_engine ? Executor::posted_count() : 0;
  bool more = true;
  auto begin = [&] {
    if (!in_batch) {
      behavior_->begin_batch();
      in_batch = true;
    }
  };
  if (continue_) {
    begin();
    handling_ = {};
    alive = guarded([] {});  // runs the pending handle_continue
  }
  for (int budget = kBatch; alive && budget > 0;) {
    // Replies first; ordinary messages only when no call is awaited.
    Envelope* e = mailbox_.pop_priority();
    if (!e && awaits_.empty()) e = mailbox_.pop_normal();
    if (!e && on_engine && !Executor::has_runnext() && Executor::posted_count() == posted_before &&
        mailbox_.await_briefly(awaits_.empty()))
      continue;
    if (!e) {
      // End the batch before go_idle: from then on another thread may run
      // this process, and nothing here may touch it.
      if (in_batch) {
        behavior_->end_batch();
        in_batch = false;
      }
      if (!mailbox_.go_idle(awaits_.empty())) {
        more = false;  // the next push schedules a new run
        break;
      }
      continue;
    }
    std::unique_ptr<Envelope> holder(e);
    // seq_cst, after pop_normal's decrement: pairs with note_peer_message.
    if (e->from_peer && backpressure_.load(std::memory_order_seq_cst) &&
        mailbox_.peer_messages() <= backpressure_low_.load(std::memory_order_relaxed))
      release_backpressure();
    begin();
    alive = dispatch(*e);
    --budget;
  }
  if (in_batch) behavior_->end_batch();
  end_run();
  if (alive && more) schedule();
  // Frees the processes that exited in this run, this one too if it did
  // (and nothing else holds it), as the last act of run().
  bury_since(graveyard_mark);
}

void Process::begin_run() {
  run_state_.store(node_.s_->executor.on_engine_thread() ? kRunningOnEngine : kRunningElsewhere,
                   std::memory_order_release);
}

void Process::end_run() {
  if (run_state_.exchange(0, std::memory_order_acq_rel) & kCapacityLent) node_.s_->executor.return_capacity();
}

template <class F>
bool Process::guarded(F&& f) {
  resumed_ = false;
  auto crash = capture_crash(f);
  // handle_continue runs right after the callback, before any other message.
  while (!crash && continue_ && !stop_request_) {
    Term arg = std::move(*continue_);
    continue_.reset();
    handling_ = {"continue", &arg, {}, nullptr};
    crash = capture_crash([&] { behavior_->handle_continue(arg); });
    if (crash) crash->last_message = handling_.describe();  // before `arg` goes
    handling_ = {};  // it pointed at `arg`
  }
  if (crash && crash->last_message.empty()) crash->last_message = handling_.describe();
  handling_ = {};  // what it points at belongs to the caller
  if (crash && !stop_request_ && on_crash_ && on_crash_(*crash)) {
    log().warn("process {} ({}) resumed after: {}", pid_.to_string(), behavior_name(), crash->to_string());
    resumed_ = true;
    last_crash_ = std::move(*crash);
    continue_.reset();
    return true;
  }
  if (crash && abandoned()) {
    // Killed while the handler ran: what it raised since (ProcessKilled,
    // aimed at it) is no crash; the process died of the kill.
    log().debug("process {} ({}): abandoned handler ended with {}", pid_.to_string(), behavior_name(), crash->to_string());
    exit(*crash, true);
    return false;
  }
  if (crash) {
    log().error("process {} ({}{}{}) crashed: {}; last message: {}{}{}", pid_.to_string(), behavior_name(),
                name_.empty() ? "" : ", name ", name_, crash->to_string(), crash->last_message,
                crash->traceback.empty() ? "" : "\n", crash->traceback);
    exit(*crash, true);
    return false;
  }
  if (stop_request_) {
    exit(std::exchange(stop_request_, std::nullopt).value(), true);
    return false;
  }
  return true;
}

void Process::drop_unexpected(const std::string& what) {
  // At most ten warnings a second per process: a flood of strays must not
  // become a flood of log lines; the next warning counts what went unlogged.
  constexpr std::uint32_t kPerSecond = 10;
  const auto now = std::chrono::steady_clock::now();
  if (now - unexpected_window_ >= std::chrono::seconds(1)) {
    unexpected_window_ = now;
    unexpected_logged_ = 0;
  }
  if (unexpected_logged_ >= kPerSecond) {
    ++unexpected_unlogged_;
    return;
  }
  ++unexpected_logged_;
  const auto more = std::exchange(unexpected_unlogged_, 0);
  log().warn("process {} ({}) dropped an unexpected {}: it defines no handle_info{}", pid_.to_string(),
             behavior_name(), what, more ? " (and " + std::to_string(more) + " more unlogged before it)" : "");
}

std::string Process::Handling::describe() const {
  // Bounded: a crash report must not copy a 16 MB message.
  constexpr std::size_t kMax = 512;
  std::string out = what ? what : "";
  if (term) out += " " + term->to_string(kMax);
  if (!from.is_nil()) out += " from " + from.to_string();
  if (reason) out += ": " + reason->to_string();
  if (out.size() > kMax + 16) out = utf8::prefix(out, kMax) + "...";
  return out;
}

bool Process::dispatch(Envelope& e) {
  handling_ = {};
  switch (e.kind) {
    case Envelope::Kind::call: {
      From from{e.from, e.ref};
      open_calls_.push_back(e.ref);
      handling_ = {"call", &e.term, e.from, nullptr};
      const bool alive = guarded([&] {
        CallReply r = behavior_->handle_call(e.term, from);
        if (r.has_value()) {
          open_calls_.pop_back();
          node_.reply(from, std::move(r.value()));
        } else if (open_calls_.size() > 64) {
          // Deferred replies may have been sent from elsewhere; forget those.
          std::erase_if(open_calls_, [&](std::uint64_t ref) { return !node_.s_->calls.contains(ref); });
        }
      });
      if (resumed_ && std::erase(open_calls_, e.ref))  // the caller learns of the crash; the process goes on
        node_.s_->calls.complete(e.ref, CallOutcome::failed(Errc::process_crashed, last_crash_));
      return alive;
    }
    case Envelope::Kind::cast:
      handling_ = {"cast", &e.term, {}, nullptr};
      return guarded([&] { behavior_->handle_cast(e.term); });
    case Envelope::Kind::info: {
      if (e.ref) untrack_timer(e.ref);
      Info info{Info::Kind::message, std::move(e.term), {}, 0, {}};
      handling_ = {"info", &info.message, {}, nullptr};
      return guarded([&] { behavior_->handle_info(info); });
    }
    case Envelope::Kind::down:
      handling_ = {"DOWN", nullptr, e.from, e.reason.get()};
      return guarded([&] { behavior_->handle_info(Info{Info::Kind::down, {}, e.from, e.ref, *e.reason}); });
    case Envelope::Kind::exit_signal:
      return handle_exit_signal(e);
    case Envelope::Kind::exit_message:
      handling_ = {"EXIT", nullptr, e.from, e.reason.get()};
      return guarded([&] { behavior_->handle_info(Info{Info::Kind::exit, {}, e.from, 0, *e.reason}); });
    case Envelope::Kind::stop:
      exit(*e.reason, true);
      return false;
    case Envelope::Kind::call_done: {
      auto it = std::find_if(awaits_.begin(), awaits_.end(), [&](auto& a) { return a.ref == e.ref; });
      if (it == awaits_.end()) return true;
      auto done = std::move(it->done);
      awaits_.erase(it);
      CallOutcome outcome;
      outcome.status = e.status;
      if (e.status == Errc::ok)
        outcome.value = std::move(e.term);
      else if (e.term.is_string())
        outcome.detail = e.term.as_string();
      if (e.reason) outcome.reason = std::move(*e.reason);
      handling_ = {"the outcome of a call it awaited", nullptr, {}, nullptr};
      return guarded([&] { done(std::move(outcome)); });
    }
  }
  return true;
}

bool Process::handle_exit_signal(Envelope& e) {
  const ExitReason reason = *e.reason;
  const bool from_link = e.ref != 0;
  const auto mode = e.term.is_int() ? static_cast<ExitSignalMode>(e.term.as_int()) : ExitSignalMode::plain;
  const bool trap_exit = trap_exit_.load(std::memory_order_acquire);
  if (mailbox_.closed()) {  // a fatal signal's sender made it dead already
    exit(reason, false);
    return false;
  }
  if (e.ref == kLinkExit && !remove_link(e.from)) return true;  // unlinked meanwhile: void
  if (e.ref == kBrokenLinkExit) remove_link(e.from);
  if (mode == ExitSignalMode::kill) {
    exit(ExitReason::killed(), false);
    return false;
  }
  if (trap_exit && from_link && e.from == parent_ && !parent_.is_nil()) {
    // Its supervisor died: nobody is left to stop it, so it goes too, through
    // terminate, as a gen_server does on its parent's EXIT (no orphans).
    exit(reason, true);
    return false;
  }
  if (trap_exit) {
    // To the tail of the normal lane: behind whatever the sender sent first.
    auto* m = new Envelope(Envelope::Kind::exit_message, e.from, e.ref);
    m->reason = std::move(e.reason);
    mailbox_.push(m);  // our own mailbox: scheduled already, it cannot be closed
    return true;
  }
  if (reason.kind == ExitReason::Kind::normal) return true;  // ignored unless trapping
  // Not trapping: die with the same reason; a supervisor's orderly shutdown
  // runs terminate first (as gen_server does for its parent's EXIT).
  exit(reason, mode == ExitSignalMode::orderly);
  return false;
}

std::optional<Process::FatalSignal> Process::fatal(const Envelope& e) const {
  const auto mode = e.term.is_int() ? static_cast<ExitSignalMode>(e.term.as_int()) : ExitSignalMode::plain;
  // Only a kill is unconditional. Other exit signals are handled when the
  // process gets to them, as Erlang handles a signal when the process is
  // scheduled: an unlink that returns before then still voids a link's
  // signal (OTP 23), and an orderly shutdown runs terminate in the process.
  if (mode == ExitSignalMode::kill) return FatalSignal{ExitReason::killed(), {}};
  return std::nullopt;
}

bool Process::would_die_of(const Envelope& e) const {
  if (e.kind != Envelope::Kind::exit_signal) return false;
  const auto mode = e.term.is_int() ? static_cast<ExitSignalMode>(e.term.as_int()) : ExitSignalMode::plain;
  if (mode == ExitSignalMode::kill) return true;
  return mode == ExitSignalMode::plain && e.reason && e.reason->kind != ExitReason::Kind::normal &&
         !trap_exit_.load(std::memory_order_acquire);
}

void Process::die_from_signal(const FatalSignal& f) {
  std::vector<Monitor> monitors;
  std::vector<Pid> links;
  // The claim: only while the process has not exited (nor been killed)
  // already, and, for a link's signal, only while it still has the link.
  // A process that starts trapping exits before the claim is spared.
  const bool claimed = mailbox_.close_if(
      [&] {
        if (!f.link_from.is_nil() && !links_.contains(f.link_from)) return false;
        return f.reason.kind == ExitReason::Kind::killed || !trap_exit_.load(std::memory_order_acquire);
      },
      [&] {
        death_reason_ = f.reason;
        monitors.swap(monitors_);
        links = links_.take();
        // Out of the table under the same lock: the run, seeing the process
        // closed, takes this reference under it to free the process.
        self_keep_ = node_.s_->table.remove(pid_.serial);
      });
  if (!claimed) return;
  abandoned_.store(true, std::memory_order_release);
  const bool was_running = run_state_.load(std::memory_order_acquire) != 0;
  // Senders held back by its full mailbox go on (their messages to it are dropped).
  if (backpressure_.load(std::memory_order_seq_cst)) release_backpressure();
  // Dead for everyone at once: its pid is gone (above), its name is free...
  if (!name_.empty()) node_.s_->registry.remove(name_, pid_);
  // ...and a handler that may never return keeps no engine thread from the others.
  for (int s = run_state_.load(std::memory_order_acquire); (s & kRunningOnEngine) && !(s & kCapacityLent);) {
    if (run_state_.compare_exchange_weak(s, s | kCapacityLent, std::memory_order_acq_rel)) {
      node_.s_->executor.lend_capacity();
      break;
    }
  }
  // Monitors, links and callers hear of it on an engine thread (this may be
  // the network thread, or a thread holding the GIL).
  node_.s_->executor.post([self = shared_from_this(), reason = f.reason, monitors = std::move(monitors),
                           links = std::move(links), was_running]() mutable {
    if (was_running) self->behavior_->interrupt_abandoned_handler();
    // Calls queued for it, which its run may not get to for a long time.
    const auto status = reason.is_abnormal() ? Errc::process_crashed : Errc::no_process;
    self->node_.s_->calls.fail_target(self->pid_, CallOutcome::failed(status, reason));
    self->announce_death(reason, std::move(monitors), std::move(links));
  });
}

void Process::announce_death(const ExitReason& reason, std::vector<Monitor> monitors, std::vector<Pid> links) {
  for (auto& m : monitors) {
    if (m.callback) {
      m.callback(pid_, reason);
    } else {
      node_.s_->route(m.watcher, Envelope::with_reason(Envelope::Kind::down, pid_, m.ref, reason));
    }
  }
  // The links that this exit kills die right here, on this thread, before
  // the parent hears of it: a supervisor restarting this process then finds
  // the names of its old children free (OTP's simple_global_supervisor).
  // Nesting is bounded (a chain of links would otherwise grow the stack).
  struct Depth {
    Depth() { ++tl_link_exit_depth; }
    ~Depth() { --tl_link_exit_depth; }
  } depth;
  const bool here = tl_link_exit_depth <= kMaxLinkExitDepth;
  bool parent_linked = false;
  for (auto& l : links) {
    if (l == parent_) {
      parent_linked = true;
      continue;
    }
    node_.s_->route(l, Envelope::with_reason(Envelope::Kind::exit_signal, pid_, kLinkExit, reason), here,
                    /*only_if_fatal=*/true);
  }
  if (parent_linked)
    node_.s_->route(parent_, Envelope::with_reason(Envelope::Kind::exit_signal, pid_, kLinkExit, reason));
}

void Process::exit(ExitReason reason, bool call_terminate) {
  if (exited_) return;
  exited_ = true;
  // The node's stop waits for exits under way (see Node::State::exiting).
  node_.s_->exiting.fetch_add(1);
  struct Ended {
    Node::State& s;
    ~Ended() {
      if (s.exiting.fetch_sub(1) == 1) s.table.notify();
    }
  } ended{*node_.s_};
  // Dead already, by a fatal signal's sender: no terminate (its reason is a
  // kill or a link's), only what the run alone may touch is left to do.
  const bool killed_from_outside = mailbox_.closed();
  if (call_terminate && !killed_from_outside) {
    // As OTP: a terminate that raises makes its error the exit reason.
    if (auto failed = capture_crash([&] { behavior_->terminate(reason); })) {
      log().error("process {} ({}): terminate raised: {}", pid_.to_string(), behavior_name(), failed->to_string());
      reason = std::move(*failed);
    }
  }
  std::vector<Monitor> monitors;
  std::vector<Pid> links;
  const bool claimed = mailbox_.close([&] {
    monitors.swap(monitors_);
    links = links_.take();
  });
  if (claimed) {
    // The name goes first, so a supervisor restarting this child can reuse it.
    if (!name_.empty()) node_.s_->registry.remove(name_, pid_);
    if (auto self = node_.s_->table.remove(pid_.serial)) tl_graveyard.push_back(std::move(self));
  } else {
    std::shared_ptr<Process> keep;
    mailbox_.locked([&] {
      reason = death_reason_;
      keep = std::move(self_keep_);
    });
    if (keep) tl_graveyard.push_back(std::move(keep));
  }
  for (auto id : timers_) node_.cancel_timer(TimerRef{id});
  timers_.clear();
  // A coroutine suspended in co_await will never resume: free its frame.
  auto awaits = std::move(awaits_);
  awaits_.clear();
  for (auto& a : awaits) {
    node_.s_->calls.cancel(a.ref);
    if (a.frame) a.frame.destroy();
  }

  // Calls it held (in flight, deferred or still queued) fail with its reason.
  const auto status = reason.is_abnormal() ? Errc::process_crashed : Errc::no_process;
  for (auto ref : open_calls_) node_.s_->calls.complete(ref, CallOutcome::failed(status, reason));
  open_calls_.clear();
  while (Envelope* e = mailbox_.drain_one()) {
    std::unique_ptr<Envelope> holder(e);
    if (e->kind == Envelope::Kind::call)
      node_.s_->calls.complete(e->ref, CallOutcome::failed(status, reason));
  }
  if (backpressure_.load(std::memory_order_seq_cst)) release_backpressure();
  if (claimed) announce_death(reason, std::move(monitors), std::move(links));
}

void Process::note_peer_message(std::uint64_t route, std::int64_t limit) {
  if (limit <= 0 || mailbox_.peer_messages() < limit) return;
  mailbox_.if_open([&] {
    if (mailbox_.peer_messages() < limit) return;
    if (std::find(backpressured_routes_.begin(), backpressured_routes_.end(), route) != backpressured_routes_.end())
      return;
    backpressured_routes_.push_back(route);
    backpressure_low_.store(limit / 2, std::memory_order_relaxed);
    backpressure_.store(true, std::memory_order_seq_cst);
    // Under the lock, so that this "full" and a later "room" leave in order.
    node_.s_->router->tell_backpressure(pid_, route, true);
  });
  // A run may have drained the mailbox before it could see the flag: then
  // nobody else would say there is room (store-then-check, as the run's
  // decrement-then-check).
  if (mailbox_.peer_messages() <= limit / 2) release_backpressure();
}

void Process::release_backpressure() {
  mailbox_.locked([&] {
    if (!backpressure_.load(std::memory_order_seq_cst)) return;
    if (!mailbox_.closed() && mailbox_.peer_messages() > backpressure_low_.load(std::memory_order_relaxed)) return;
    backpressure_.store(false, std::memory_order_seq_cst);
    for (auto route : backpressured_routes_) node_.s_->router->tell_backpressure(pid_, route, false);
    backpressured_routes_.clear();
  });
}

bool Process::add_monitor(Monitor m) {
  return mailbox_.if_open([&] { monitors_.push_back(std::move(m)); });
}

void Process::remove_monitor(std::uint64_t ref) {
  mailbox_.if_open([&] { std::erase_if(monitors_, [&](const Monitor& m) { return m.ref == ref; }); });
}

bool Process::add_link(Pid other) {
  return mailbox_.if_open([&] {
    links_.insert(other);
  });
}

bool Process::remove_link(Pid other) {
  bool removed = false;
  mailbox_.if_open([&] { removed = links_.erase(other); });
  return removed;
}

std::vector<Pid> Process::links_to(std::uint32_t node, std::uint32_t creation) {
  std::vector<Pid> out;
  mailbox_.if_open([&] { out = links_.select([&](Pid p) { return p.node == node && p.creation == creation; }); });
  return out;
}

void Process::await_call(Pid to, Term request, Duration timeout, std::function<void(CallOutcome)> done,
                         std::coroutine_handle<> frame) {
  const auto ref = node_.s_->calls.reserve_ref();
  awaits_.push_back(Await{ref, std::move(done), frame});
  // The outcome comes back as a call_done envelope, so `done` runs here, like a handler.
  node_.s_->start_call(node_, ref, to, std::move(request), timeout, CallWaiterRef{shared_from_this(), {}}, false);
}

void Process::track_timer(std::uint64_t id) { timers_.push_back(id); }
void Process::untrack_timer(std::uint64_t id) { std::erase(timers_, id); }

}  // namespace noexpp
