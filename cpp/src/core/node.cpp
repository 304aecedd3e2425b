// Node: lifecycle, local delivery and the public API. Pids that are not
// local go to the router (installed from above); processes live in the
// ProcessTable, timers in Timers, open calls in PendingCalls.
#include "noexpp/node.hpp"

#include <algorithm>
#include <random>
#include <thread>

#include "core/internal/log.hpp"
#include "core/internal/node_internals.hpp"
#include "core/internal/router.hpp"
#include "core/node_state.hpp"
#include "core/process.hpp"

namespace noexpp {
namespace {

std::uint32_t fresh_creation() {
  std::random_device rd;
  std::uint32_t c = 0;
  while (c == 0) c = rd();
  return c;
}

Envelope* make_envelope(Envelope::Kind kind, Pid from, std::uint64_t ref, Term&& term = {}) {
  return new Envelope(kind, from, ref, std::move(term));
}

Pid current_pid_or(Pid fallback) {
  auto* cur = Process::current();
  return cur ? cur->pid() : fallback;
}

/// True inside a handler of a process that was killed while it ran: what
/// that handler still sends, replies, spawns or links is dropped (DESIGN §2).
bool from_abandoned_handler() {
  auto* cur = Process::current();
  return cur && cur->abandoned();
}

// What a stop may take past its grace: goodbyes, the last events, joins.
constexpr auto kStopTail = std::chrono::milliseconds(500);

Deadline deadline_after(Duration timeout) {
  return timeout == kInfinity ? kNoDeadline : std::chrono::steady_clock::now() + timeout;
}

}  // namespace

Node::State::State(NodeOptions o)
    : options(std::move(o)),
      id(options.name + "@" + options.host + ":" + std::to_string(options.port)),
      name_index(intern_node_name(id)),
      creation(fresh_creation()),
      executor(std::max(1, options.threads)),
      calls(executor.io()),
      events([this](std::function<void()> f) { executor.post(std::move(f)); }),
      timers(executor.io(), [this](std::uint64_t timer, Pid to, Term message) {
        // The timer's id travels as the envelope's ref: the process forgets it.
        if (place_of(to) == Place::local) deliver_local(to, make_envelope(Envelope::Kind::info, to, timer, std::move(message)));
      }) {}

std::shared_ptr<Node> Node::create(NodeOptions options) {
  return std::shared_ptr<Node>(new Node(std::move(options)));
}

std::shared_ptr<Node> Node::create(NodeOptions options, void (*deleter)(Node*)) {
  return std::shared_ptr<Node>(new Node(std::move(options)), deleter);
}

Node::Node(NodeOptions options) : s_(std::make_unique<State>(std::move(options))) {}

Node::~Node() {
  stop();
  // Modules go first, newest first (they may hold subscriptions on older ones).
  while (!s_->modules.empty()) s_->modules.pop_back();
  // What is left (processes stuck in a handler at stop) goes with the node.
  s_->table.clear();
}

// ---- lifecycle ---------------------------------------------------------------

bool Node::running() const { return s_->running.load(std::memory_order_acquire); }
const std::string& Node::id() const { return s_->id; }
Pid Node::node_pid() const { return Pid{s_->name_index, s_->creation, 0}; }
bool Node::is_local(Pid p) const { return s_->place_of(p) == State::Place::local; }
int Node::threads() const { return s_->executor.threads(); }
bool Node::on_engine_thread() const { return s_->executor.on_engine_thread(); }
EventBus& Node::events() { return s_->events; }
std::size_t Node::open_calls() const { return s_->calls.size(); }

void Node::attach(std::shared_ptr<NodeModule> module) { s_->modules.push_back(std::move(module)); }

NodeModule* Node::module(std::string_view name) const {
  for (auto& m : s_->modules)
    if (name == m->name()) return m.get();
  return nullptr;
}

void Node::start() {
  if (s_->stopped.load() || s_->running.exchange(true)) return;
  s_->executor.start();
  for (auto& m : s_->modules) m->start();
  log().debug("node {} started with {} threads", s_->id, s_->executor.threads());
}

void Node::State::stop_processes(Node& node, const std::function<bool(const Process&)>& which,
                                 std::chrono::steady_clock::time_point deadline) {
  auto& s = *this;
  // Looked at without any table lock held: `which` asks the table itself.
  auto procs = s.table.snapshot();
  std::erase_if(procs, [&](const std::shared_ptr<Process>& p) { return !which(*p); });
  // Newest first, as a supervisor stops its children in reverse start order.
  std::sort(procs.begin(), procs.end(), [](auto& a, auto& b) { return a->pid().serial > b->pid().serial; });
  std::vector<Pid> pids;
  for (auto& p : procs) {
    pids.push_back(p->pid());
    p->deliver(Envelope::with_reason(Envelope::Kind::stop, node.node_pid(), 0, ExitReason::shutdown()));
  }
  procs.clear();
  s.table.wait_until(deadline, [&] {
    return s.exiting.load() == 0 && std::none_of(pids.begin(), pids.end(), [&](Pid p) { return node.alive(p); });
  });
}

void Node::stop(Duration grace) {
  if (s_->stopped.exchange(true)) return;
  if (s_->executor.on_engine_thread()) {
    // Joining engine threads from one of them would deadlock: hand it off.
    s_->stopped.store(false);
    std::thread([self = shared_from_this(), grace] { self->stop(grace); }).detach();
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  if (s_->running.load() && !s_->aborted.load())
    for (auto& m : s_->modules) m->stopping();
  if (s_->running.load()) {
    // Roots first: a supervisor stops its own children, in reverse start
    // order, and must not see them exit under it. Then whatever is left.
    s_->stop_processes(*this, [&](const Process& p) { return p.parent().is_nil() || !alive(p.parent()); }, deadline);
    s_->stop_processes(*this, [](const Process&) { return true; }, deadline);
    // Past the grace, as a supervisor's brutal_kill: whatever still runs
    // (a handler that never returns) is killed, dead for everyone at once.
    for (auto& p : s_->table.snapshot()) kill(p->pid());
  }
  // Peers hear goodbye (unless aborted) once the processes, which may still
  // have sent them exit signals, are gone.
  const bool graceful = !s_->aborted.load();
  for (auto it = s_->modules.rbegin(); it != s_->modules.rend(); ++it) (*it)->stop(graceful);
  // The events of this shutdown (children and supervisors stopping) reach
  // subscribers before the threads that deliver them stop.
  // The grace bounds the whole stop; what comes after it gets a short
  // tail, so that a stop past its grace still says goodbye and reports.
  const auto tail = std::max(deadline, std::chrono::steady_clock::now() + kStopTail);
  s_->events.flush(std::chrono::duration_cast<std::chrono::milliseconds>(tail - std::chrono::steady_clock::now()));
  s_->running.store(false, std::memory_order_release);
  s_->calls.fail_all(Errc::node_stopped);
  s_->timers.cancel_all();
  // A thread inside the handler of a killed process may never come back;
  // it is left behind, and so is the node it may still touch when it does
  // (kept for the life of the OS process). From a destructor there is no
  // owner left to keep, so that stop waits for it.
  auto self = weak_from_this().lock();
  const auto stuck = s_->executor.stop(self ? tail : std::chrono::steady_clock::time_point::max());
  if (stuck) {
    keep_forever(std::move(self));
    log().warn("node {} stopped with {} engine threads still inside handlers of killed processes; "
               "they are left behind, with the node's memory", s_->id, stuck);
    return;
  }
  s_->timers.clear();
  auto left = process_count();
  if (left) log().warn("node {} stopped with {} processes that did not exit in time", s_->id, left);
  log().debug("node {} stopped", s_->id);
}

void Node::keep_forever(std::shared_ptr<Node> node) {
  static std::mutex mu;
  static auto* kept = new std::vector<std::shared_ptr<Node>>();  // never freed: reachable, not a leak
  std::lock_guard lk(mu);
  kept->push_back(std::move(node));
}

void Node::abort() {
  s_->aborted.store(true);
  for (auto& m : s_->modules) m->abort();
  stop(std::chrono::milliseconds(500));
}

// ---- processes -----------------------------------------------------------------

Result<Pid> Node::spawn(const BehaviorFactory& factory, const Term& args, const SpawnOptions& opts) {
  if (!running() || s_->stopped.load(std::memory_order_acquire))
    return Error{Errc::node_stopped, "node " + s_->id + " is not running"};
  if (from_abandoned_handler()) return Error{Errc::no_process, "the spawning process was killed"};
  std::unique_ptr<GenServer> behavior;
  try {
    behavior = factory();
  } catch (const std::exception& e) {
    return Error{Errc::init_failed, std::string("behavior factory raised: ") + e.what()};
  }
  if (!behavior) return Error{Errc::invalid_argument, "behavior factory returned nothing"};
  const Pid pid{s_->name_index, s_->creation, s_->next_serial.fetch_add(1, std::memory_order_relaxed)};
  auto proc = std::make_shared<Process>(*this, pid, std::move(behavior), opts.name);
  if (opts.on_crash) proc->set_crash_hook(opts.on_crash);
  proc->set_parent(opts.parent);
  if (!opts.name.empty() && !s_->registry.add(opts.name, pid))
    return Error{Errc::duplicate_name, "name '" + opts.name + "' is already registered"};
  s_->table.insert(proc, pid.serial);
  if (opts.on_created) opts.on_created(pid);
  if (!opts.link_to.is_nil()) link(opts.link_to, pid);
  if (auto failure = proc->run_init(args)) {
    if (proc->ignored()) return Error{Errc::ignored, "init of " + proc->behavior_name() + " returned ignore: nothing was started"};
    return Error{Errc::init_failed, failure->to_string()};
  }
  return pid;
}

bool Node::alive(Pid p) const { return is_local(p) && s_->table.find(p.serial) != nullptr; }

std::size_t Node::process_count() const { return s_->table.size(); }

std::vector<ProcessInfo> Node::processes() const {
  auto procs = s_->table.snapshot();
  std::vector<ProcessInfo> out;
  out.reserve(procs.size());
  for (auto& p : procs) out.push_back({p->pid(), p->registered_name(), p->behavior_name()});
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.pid.serial < b.pid.serial; });
  return out;
}

std::optional<Pid> Node::whereis(const std::string& name) const { return s_->registry.whereis(name); }

// ---- delivery ------------------------------------------------------------------

bool Node::State::deliver_local(Pid to, Envelope* e, bool run_here, bool only_if_fatal) {
  std::shared_ptr<Process> keep;
  bool delivered = false;
  // Run here, or an exit signal (it may kill a busy process, which leaves the
  // table): delivered outside the shard's lock, holding the process.
  const bool outside_lock = run_here || e->kind == Envelope::Kind::exit_signal;
  const bool found = table.with(to.serial, [&](Process& p) {
    if (outside_lock) {
      keep = p.shared_from_this();
    } else {
      delivered = p.deliver(e);
    }
  });
  if (!found) {
    delete e;
    return false;
  }
  if (keep) return keep->deliver(e, run_here, only_if_fatal);
  return delivered;
}

bool Node::State::route(Pid to, Envelope* e, bool run_here, bool only_if_fatal) {
  switch (place_of(to)) {
    case Place::local: return deliver_local(to, e, run_here, only_if_fatal);
    case Place::remote: {
      std::unique_ptr<Envelope> holder(e);
      auto sent = router->send(to, *e);
      return sent.ok() && sent.value();
    }
    case Place::nowhere: break;
  }
  delete e;
  return false;
}

bool Node::send(Pid to, Term message) {
  if (from_abandoned_handler()) return false;
  return s_->route(to, make_envelope(Envelope::Kind::info, current_pid_or(node_pid()), 0, std::move(message)));
}

bool Node::cast(Pid to, Term request) {
  if (from_abandoned_handler()) return false;
  return s_->route(to, make_envelope(Envelope::Kind::cast, current_pid_or(node_pid()), 0, std::move(request)));
}

Result<bool> Node::send_message(Pid to, Term message, bool as_cast) {
  if (from_abandoned_handler()) return false;
  const auto kind = as_cast ? Envelope::Kind::cast : Envelope::Kind::info;
  if (s_->place_of(to) != State::Place::remote)
    return s_->route(to, make_envelope(kind, current_pid_or(node_pid()), 0, std::move(message)));
  Envelope e(kind, current_pid_or(node_pid()), 0, std::move(message));
  auto sent = s_->router->send(to, e);
  // It did not leave, and waiting cannot help: the caller must know. An
  // unreachable node is silent, as in Erlang.
  if (!sent && sent.error().code != Errc::no_connection) return sent.error();
  return sent.ok() && sent.value();
}

// ---- calls ----------------------------------------------------------------------

void Node::State::start_call(Node& node, std::uint64_t ref, Pid to, Term request, Duration timeout,
                             CallWaiterRef waiter, bool run_here) {
  auto& s = *this;
  auto fail_now = [&](CallOutcome o) { PendingCalls::finish_now(std::move(waiter), ref, std::move(o)); };
  if (!node.running()) return fail_now(CallOutcome::failed(Errc::node_stopped));
  // One rule wherever the target is: a call needs time for its answer. (A
  // zero deadline would race the answer: a local target run on this very
  // thread always won, a remote one mostly lost.)
  if (timeout <= Duration::zero())
    return fail_now(CallOutcome::failed(Errc::invalid_argument, {}, "a call's timeout must be > 0 (None / kInfinity: no limit)"));
  auto* cur = Process::current();
  if (cur && cur->pid() == to) return fail_now(CallOutcome::failed(Errc::self_call));
  if (cur && cur->abandoned()) return fail_now(CallOutcome::failed(Errc::no_process, ExitReason::killed()));
  const Pid caller = cur ? cur->pid() : node.node_pid();
  switch (s.place_of(to)) {
    case Node::State::Place::remote:
      return s.router->call(to, caller, ref, std::move(request), std::move(waiter), deadline_after(timeout));
    case Node::State::Place::nowhere:
      if (!to.is_nil() && to.node != s.name_index)  // another node's pid, and no router
        return fail_now(CallOutcome::failed(Errc::no_connection, ExitReason::noconnection()));
      return fail_now(CallOutcome::failed(Errc::no_process, ExitReason::noproc()));
    case Node::State::Place::local: break;
  }
  auto proc = s.table.find(to.serial);
  if (!proc) return fail_now(CallOutcome::failed(Errc::no_process, ExitReason::noproc()));
  s.calls.add(ref, std::move(waiter), deadline_after(timeout), 0, to);
  if (!proc->deliver(make_envelope(Envelope::Kind::call, caller, ref, std::move(request)), run_here))
    s.calls.complete(ref, CallOutcome::failed(Errc::no_process, ExitReason::noproc()));
}

std::uint64_t Node::call_async(Pid to, Term request, Duration timeout, Completion done) {
  auto ref = s_->calls.reserve_ref();
  s_->start_call(*this, ref, to, std::move(request), timeout, CallWaiterRef{nullptr, std::move(done)}, false);
  return s_->calls.contains(ref) ? ref : 0;
}

CallOutcome Node::call(Pid to, Term request, Duration timeout) {
  auto waiter = std::make_shared<CallWaiter>();
  NodeInternals::call_from_waiting_thread(*this, to, std::move(request), timeout, waiter->completion());
  // The engine's deadline ends the wait: the outcome always comes.
  Executor::BlockingScope blocking(s_->executor);
  waiter->wait_until(kNoDeadline);
  return waiter->take();
}

void Node::reply(const From& to, Term value) {
  if (from_abandoned_handler()) return;
  s_->calls.complete(to.ref, CallOutcome::reply(std::move(value)));
}

// ---- exits, links, monitors --------------------------------------------------------

bool Node::exit(Pid target, ExitReason reason, Pid from) {
  if (from_abandoned_handler()) return false;
  return s_->route(target, Envelope::with_reason(Envelope::Kind::exit_signal,
                                                  from.is_nil() ? current_pid_or(node_pid()) : from, 0, std::move(reason)));
}

bool Node::shutdown(Pid target, ExitReason reason, Pid from, bool run_here) {
  auto* e = Envelope::with_reason(Envelope::Kind::exit_signal, from.is_nil() ? current_pid_or(node_pid()) : from, 0,
                                  std::move(reason), Term(static_cast<std::int64_t>(ExitSignalMode::orderly)));
  return s_->route(target, e, run_here);
}

bool Node::kill(Pid target, Pid from, bool run_here) {
  auto* e = Envelope::with_reason(Envelope::Kind::exit_signal, from.is_nil() ? current_pid_or(node_pid()) : from, 0,
                                  ExitReason::killed(), Term(static_cast<std::int64_t>(ExitSignalMode::kill)));
  return s_->route(target, e, run_here);
}

bool Node::stop_async(Pid target, ExitReason reason) {
  return s_->route(target, Envelope::with_reason(Envelope::Kind::stop, current_pid_or(node_pid()), 0, std::move(reason)));
}

Result<bool> Node::stop_process(Pid target, ExitReason reason, Duration timeout, ExitReason* exited_with) {
  const bool remote = s_->place_of(target) == State::Place::remote;
  const ExitReason requested = reason;
  if (!remote && !alive(target)) return Error{Errc::no_process, "no process " + target.to_string()};
  auto waiter = std::make_shared<CallWaiter>();
  auto done = waiter->completion();
  auto ref = monitor(target, [done](Pid, const ExitReason& r) { done(CallOutcome::failed(Errc::no_process, r)); });
  stop_async(target, std::move(reason));
  Executor::BlockingScope blocking(s_->executor);
  if (!waiter->wait_until(deadline_after(timeout))) {
    demonitor(target, ref);
    return Error{Errc::call_timeout, "process " + target.to_string() + " did not stop in time"};
  }
  auto outcome = waiter->take();
  if (exited_with) *exited_with = outcome.reason;
  // The DOWN tells a stopped process from one that was never there (a
  // local one that exits just now gives noproc too).
  if (outcome.reason.kind == ExitReason::Kind::noproc && requested.kind != ExitReason::Kind::noproc)
    return Error{Errc::no_process, "no process " + target.to_string()};
  if (remote && outcome.reason.kind == ExitReason::Kind::noconnection)
    return Error{Errc::no_connection, "node of " + target.to_string() + " is down"};
  if (!(outcome.reason == requested))
    return Error{Errc::process_crashed, "process " + target.to_string() + " did not stop with " +
                                            requested.to_string() + ": " + outcome.reason.to_string()};
  return true;
}

std::uint64_t Node::monitor(Pid target, MonitorCallback cb) {
  auto ref = s_->next_ref.fetch_add(1, std::memory_order_relaxed);
  if (s_->place_of(target) == State::Place::remote) {
    s_->router->monitor(ref, Pid{}, target, std::move(cb));
    return ref;
  }
  auto proc = is_local(target) ? s_->table.find(target.serial) : nullptr;
  if (!proc || !proc->add_monitor(Monitor{ref, {}, cb})) cb(target, ExitReason::noproc());
  return ref;
}

std::uint64_t Node::monitor_by(Pid watcher, Pid target) {
  auto ref = s_->next_ref.fetch_add(1, std::memory_order_relaxed);
  if (s_->place_of(target) == State::Place::remote) {
    s_->router->monitor(ref, watcher, target, {});
    return ref;
  }
  auto proc = is_local(target) ? s_->table.find(target.serial) : nullptr;
  if (!proc || !proc->add_monitor(Monitor{ref, watcher, {}}))
    s_->route(watcher, Envelope::with_reason(Envelope::Kind::down, target, ref, ExitReason::noproc()));
  return ref;
}

void Node::demonitor(Pid target, std::uint64_t ref) {
  if (s_->place_of(target) == State::Place::remote) return s_->router->demonitor(target, ref);
  if (!is_local(target)) return;
  if (auto proc = s_->table.find(target.serial)) proc->remove_monitor(ref);
}

void Node::link(Pid a, Pid b) {
  if (a == b || from_abandoned_handler()) return;
  if (!is_local(a)) std::swap(a, b);  // the local end does the linking
  if (!is_local(a)) return;
  auto pa = s_->table.find(a.serial);
  if (!pa) return;
  if (s_->place_of(b) == State::Place::remote) {
    if (pa->add_link(b)) s_->router->link(a, b);
    return;
  }
  // a's side first: should b die once it holds the link, its exit signal
  // finds the link in a (a signal from a link a does not hold is void).
  if (!pa->add_link(b)) return;  // a has exited
  auto pb = is_local(b) ? s_->table.find(b.serial) : nullptr;
  if (!pb || !pb->add_link(a)) {
    pa->remove_link(b);
    pa->deliver(Envelope::with_reason(Envelope::Kind::exit_signal, b, kBrokenLinkExit, ExitReason::noproc()));
  }
}

void Node::unlink(Pid a, Pid b) {
  if (!is_local(a)) std::swap(a, b);
  if (!is_local(a)) return;
  if (auto pa = s_->table.find(a.serial)) pa->remove_link(b);
  if (s_->place_of(b) == State::Place::remote) return s_->router->unlink(a, b);
  if (!is_local(b)) return;
  if (auto pb = s_->table.find(b.serial)) pb->remove_link(a);
}

// ---- timers ------------------------------------------------------------------------

TimerRef Node::send_after(Pid to, Duration delay, Term message) {
  auto id = s_->next_ref.fetch_add(1, std::memory_order_relaxed);
  s_->timers.start(id, to, delay, std::move(message));
  return TimerRef{id};
}

bool Node::cancel_timer(TimerRef t) { return s_->timers.cancel(t.id); }

// ---- NodeInternals -----------------------------------------------------------------

Executor& NodeInternals::executor(Node& n) { return n.s_->executor; }
PendingCalls& NodeInternals::calls(Node& n) { return n.s_->calls; }
void NodeInternals::set_router(Node& n, Router* router) { n.s_->router = router; }

bool NodeInternals::deliver_local(Node& n, Pid to, Envelope* e) {
  if (!n.is_local(to)) {
    delete e;
    return false;
  }
  return n.s_->deliver_local(to, e);
}

bool NodeInternals::deliver_from_peer(Node& n, Pid to, Envelope* e, std::uint64_t route, std::int64_t limit) {
  std::shared_ptr<Process> keep;
  if (n.is_local(to)) n.s_->table.with(to.serial, [&](Process& p) { keep = p.shared_from_this(); });
  if (!keep) {
    delete e;
    return false;
  }
  e->from_peer = true;
  if (!keep->deliver(e)) return false;
  keep->note_peer_message(route, limit);
  return true;
}

void NodeInternals::call_local(Node& n, Pid to, Pid caller, Term request, Node::Completion done) {
  auto& s = *n.s_;
  const auto ref = s.calls.reserve_ref();
  auto proc = n.is_local(to) ? s.table.find(to.serial) : nullptr;
  if (!proc) return PendingCalls::finish_now(CallWaiterRef{nullptr, std::move(done)}, ref,
                                             CallOutcome::failed(Errc::no_process, ExitReason::noproc()));
  s.calls.add(ref, CallWaiterRef{nullptr, std::move(done)}, kNoDeadline, 0, to);
  if (!proc->deliver(make_envelope(Envelope::Kind::call, caller, ref, std::move(request))))
    s.calls.complete(ref, CallOutcome::failed(Errc::no_process, ExitReason::noproc()));
}

bool NodeInternals::add_remote_link(Node& n, Pid local, Pid remote) {
  auto proc = n.is_local(local) ? n.s_->table.find(local.serial) : nullptr;
  return proc && proc->add_link(remote);
}

void NodeInternals::remove_link(Node& n, Pid local, Pid other) {
  if (!n.is_local(local)) return;
  if (auto proc = n.s_->table.find(local.serial)) proc->remove_link(other);
}

void NodeInternals::break_links_to(Node& n, std::uint32_t node_index, std::uint32_t creation) {
  // A link's signal (kLinkExit): it counts only if the link is still there
  // when the process takes it. The exit signals that node sent before it
  // went (a graceful stop's shutdowns) are ahead of it in the mailbox and
  // remove their links first, so they are what the process sees, as in
  // OTP; the link is broken with noconnection only where none came.
  for (auto& p : n.s_->table.snapshot())
    for (Pid gone : p->links_to(node_index, creation))
      p->deliver(Envelope::with_reason(Envelope::Kind::exit_signal, gone, kLinkExit, ExitReason::noconnection()));
}

std::uint64_t NodeInternals::call_from_waiting_thread(Node& n, Pid to, Term request, Duration timeout,
                                                      Node::Completion done) {
  auto& s = *n.s_;
  auto ref = s.calls.reserve_ref();
  s.start_call(n, ref, to, std::move(request), timeout, CallWaiterRef{nullptr, std::move(done)},
             !s.executor.on_engine_thread());
  return s.calls.contains(ref) ? ref : 0;
}

bool NodeInternals::cancel_call(Node& n, std::uint64_t ref) { return n.s_->calls.cancel(ref); }

}  // namespace noexpp
