#include "noexpp/core/node.hpp"

#include <algorithm>
#include <condition_variable>
#include <random>

#include "log.hpp"
#include "noexpp/cluster/cluster.hpp"
#include "noexpp/core/process.hpp"
#include "noexpp/dist/global_registry.hpp"

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

}  // namespace

std::shared_ptr<Node> Node::create(NodeOptions options) {
  return std::shared_ptr<Node>(new Node(std::move(options)));
}

std::shared_ptr<Node> Node::create(NodeOptions options, void (*deleter)(Node*)) {
  return std::shared_ptr<Node>(new Node(std::move(options)), deleter);
}

Node::Node(NodeOptions options)
    : options_(std::move(options)),
      cluster_(options_.cluster.listen
                   ? std::make_unique<cluster::Cluster>(*this, options_.host, options_.port, options_.cluster)
                   : nullptr),
      id_(options_.name + "@" + options_.host + ":" + std::to_string(cluster_ ? cluster_->port() : options_.port)),
      name_index_(intern_node_name(id_)),
      creation_(fresh_creation()),
      executor_(std::max(1, options_.threads)),
      pending_(executor_.io()) {
  if (cluster_) global_ = std::make_unique<dist::GlobalRegistry>(*this, *cluster_);
}

Node::~Node() {
  stop();
  // What is left (processes stuck in a handler at stop) goes with the node.
  for (auto& s : table_) s.procs.clear();
}

void Node::start() {
  if (stopped_.load() || running_.exchange(true)) return;
  executor_.start();
  if (cluster_) cluster_->start();
  log().debug("node {} started with {} threads", id_, executor_.threads());
}

void Node::stop(Duration grace) {
  if (stopped_.exchange(true)) return;
  if (executor_.on_engine_thread()) {
    // Joining engine threads from one of them would deadlock: hand it off.
    stopped_.store(false);
    std::thread([self = shared_from_this(), grace] { self->stop(grace); }).detach();
    return;
  }
  if (running_.load()) {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    // Roots first: a supervisor stops its own children, in reverse start
    // order, and must not see them exit under it. Then whatever is left.
    stop_processes([&](const Process& p) { return p.parent().is_nil() || !alive(p.parent()); }, deadline);
    stop_processes([](const Process&) { return true; }, deadline);
  }
  // Peers hear goodbye (unless aborted) once the processes, which may still
  // have sent them exit signals, are gone.
  if (cluster_) cluster_->stop(!aborted_.load());
  // The events of this shutdown (children and supervisors stopping) reach
  // subscribers before the threads that deliver them stop.
  events_.flush(std::chrono::seconds(1));
  if (cluster_) cluster_->events().flush(std::chrono::seconds(1));
  running_.store(false, std::memory_order_release);
  pending_.fail_all(CallOutcome::Status::node_stopped);
  {
    std::lock_guard lk(timers_mu_);
    for (auto& [id, t] : timers_) t->cancel();
  }
  executor_.stop();
  {
    std::lock_guard lk(timers_mu_);
    timers_.clear();
  }
  auto left = process_count();
  if (left) log().warn("node {} stopped with {} processes that did not exit in time", id_, left);
  log().debug("node {} stopped", id_);
}

void Node::abort() {
  aborted_.store(true);
  if (cluster_) cluster_->abort_connections();
  stop(std::chrono::milliseconds(500));
}

bool Node::stop_async(Pid target, ExitReason reason) {
  auto* e = make_envelope(Envelope::Kind::stop, current_pid_or(node_pid()), 0);
  e->reason = std::make_unique<ExitReason>(std::move(reason));
  return deliver(target, e);
}

void Node::stop_processes(const std::function<bool(const Process&)>& which,
                          std::chrono::steady_clock::time_point deadline) {
  // Newest first, as a supervisor stops its children in reverse start order.
  std::vector<std::shared_ptr<Process>> procs;
  for (auto& s : table_) {
    std::lock_guard lk(s.mu);
    for (auto& [serial, p] : s.procs)
      if (which(*p)) procs.push_back(p);
  }
  std::sort(procs.begin(), procs.end(), [](auto& a, auto& b) { return a->pid().serial > b->pid().serial; });
  std::vector<Pid> pids;
  for (auto& p : procs) {
    pids.push_back(p->pid());
    auto* e = make_envelope(Envelope::Kind::stop, node_pid(), 0);
    e->reason = std::make_unique<ExitReason>(ExitReason::shutdown());
    p->deliver(e);
  }
  procs.clear();
  std::unique_lock lk(empty_mu_);
  empty_cv_.wait_until(lk, deadline, [&] {
    return exiting_.load(std::memory_order_acquire) == 0 &&
           std::none_of(pids.begin(), pids.end(), [&](Pid p) { return alive(p); });
  });
}

void Node::exit_ended() {
  if (exiting_.fetch_sub(1, std::memory_order_acq_rel) == 1 && stopped_.load()) {
    std::lock_guard lk(empty_mu_);
    empty_cv_.notify_all();
  }
}

// ---- processes -----------------------------------------------------------

Result<Pid> Node::spawn(const BehaviorFactory& factory, const Term& args, const SpawnOptions& opts) {
  if (!running() || stopped_.load(std::memory_order_acquire)) return Error{Errc::node_stopped, "node " + id_ + " is not running"};
  std::unique_ptr<GenServer> behavior;
  try {
    behavior = factory();
  } catch (const std::exception& e) {
    return Error{Errc::init_failed, std::string("behavior factory raised: ") + e.what()};
  }
  if (!behavior) return Error{Errc::invalid_argument, "behavior factory returned nothing"};
  const Pid pid{name_index_, creation_, next_serial_.fetch_add(1, std::memory_order_relaxed)};
  auto proc = std::make_shared<Process>(*this, pid, std::move(behavior), opts.name);
  if (opts.on_crash) proc->set_crash_hook(opts.on_crash);
  proc->set_parent(opts.parent);
  if (!opts.name.empty() && !registry_.add(opts.name, pid))
    return Error{Errc::duplicate_name, "name '" + opts.name + "' is already registered"};
  {
    auto& s = shard(pid.serial);
    std::lock_guard lk(s.mu);
    s.procs.emplace(pid.serial, proc);
  }
  if (!opts.link_to.is_nil()) link(opts.link_to, pid);
  if (auto failure = proc->run_init(args))
    return Error{Errc::init_failed, failure->to_string()};
  return pid;
}

std::shared_ptr<Process> Node::find(Pid p) const {
  if (!is_local(p)) return nullptr;
  auto& s = shard(p.serial);
  std::lock_guard lk(s.mu);
  auto it = s.procs.find(p.serial);
  return it == s.procs.end() ? nullptr : it->second;
}

bool Node::alive(Pid p) const { return find(p) != nullptr; }

std::shared_ptr<Process> Node::remove_process(Pid p) {
  std::shared_ptr<Process> removed;
  {
    auto& s = shard(p.serial);
    std::lock_guard lk(s.mu);
    if (auto it = s.procs.find(p.serial); it != s.procs.end()) {
      removed = std::move(it->second);
      s.procs.erase(it);
    }
  }
  if (stopped_.load()) {  // stop() waits for these exits
    std::lock_guard lk(empty_mu_);
    empty_cv_.notify_all();
  }
  return removed;
}

std::size_t Node::process_count() const {
  std::size_t n = 0;
  for (auto& s : table_) {
    std::lock_guard lk(s.mu);
    n += s.procs.size();
  }
  return n;
}

std::vector<ProcessInfo> Node::processes() const {
  std::vector<std::shared_ptr<Process>> procs;
  for (auto& s : table_) {
    std::lock_guard lk(s.mu);
    for (auto& [serial, p] : s.procs) procs.push_back(p);
  }
  std::vector<ProcessInfo> out;
  out.reserve(procs.size());
  for (auto& p : procs) out.push_back({p->pid(), p->registered_name(), p->behavior_name()});
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.pid.serial < b.pid.serial; });
  return out;
}

// ---- messages ------------------------------------------------------------

bool Node::deliver(Pid to, Envelope* e) {
  if (!is_local(to)) {
    std::unique_ptr<Envelope> holder(e);
    if (!cluster_ || to.is_nil() || to.node == name_index_) return false;  // nowhere, or an older incarnation of ours
    auto routed = cluster_->route(to, *e);
    return routed.ok() && routed.value();
  }
  // Pushed under the table shard's lock: the process cannot leave the table
  // meanwhile, so no reference count is taken per message. The mailbox lock
  // nests inside; scheduling happens after both are released.
  bool schedule = false;
  const bool run_next = e->wakes_for_reply();
  if (is_local(to)) {
    auto& s = shard(to.serial);
    std::lock_guard lk(s.mu);
    auto it = s.procs.find(to.serial);
    if (it != s.procs.end()) {
      switch (it->second->mailbox_.push(e)) {
        case Mailbox::Push::queued: return true;
        case Mailbox::Push::closed: return false;
        case Mailbox::Push::queued_and_schedule:
          schedule = true;
          e = nullptr;
          it->second->schedule(run_next);  // only posts a run; takes no lock of ours
          break;
      }
    }
  }
  if (e) delete e;
  return schedule;
}


bool Node::send(Pid to, Term message) {
  return deliver(to, make_envelope(Envelope::Kind::info, current_pid_or(node_pid()), 0, std::move(message)));
}

bool Node::cast(Pid to, Term request) {
  return deliver(to, make_envelope(Envelope::Kind::cast, current_pid_or(node_pid()), 0, std::move(request)));
}

Result<bool> Node::send_message(Pid to, Term message, bool as_cast) {
  const auto kind = as_cast ? Envelope::Kind::cast : Envelope::Kind::info;
  if (is_local(to) || !cluster_ || to.is_nil() || to.node == name_index_)
    return deliver(to, make_envelope(kind, current_pid_or(node_pid()), 0, std::move(message)));
  Envelope e(kind, current_pid_or(node_pid()), 0, std::move(message));
  auto routed = cluster_->route(to, e);
  if (!routed && routed.error().code == Errc::message_too_large) return routed.error();
  return routed.ok() && routed.value();
}

std::uint64_t Node::call_async(Pid to, Term request, Duration timeout, Completion done) {
  auto ref = pending_.reserve_ref();
  call_with_ref(ref, to, std::move(request), timeout, CallWaiterRef{nullptr, std::move(done)});
  return pending_.contains(ref) ? ref : 0;
}

std::uint64_t Node::call_async_here(Pid to, Term request, Completion done) {
  auto ref = pending_.reserve_ref();
  call_with_ref(ref, to, std::move(request), kInfinity, CallWaiterRef{nullptr, std::move(done)},
                !executor_.on_engine_thread());
  return pending_.contains(ref) ? ref : 0;
}

void Node::call_with_ref(std::uint64_t ref, Pid to, Term request, Duration timeout, CallWaiterRef waiter,
                         bool run_here) {
  auto fail_now = [&](CallOutcome o) {
    pending_.add(ref, std::move(waiter));  // one completion path for all outcomes
    pending_.complete(ref, std::move(o));
  };
  if (!running()) return fail_now(CallOutcome::failed(CallOutcome::Status::node_stopped));
  auto* cur = Process::current();
  if (cur && cur->pid() == to) return fail_now(CallOutcome::failed(CallOutcome::Status::self_call));
  if (!is_local(to) && cluster_ && !to.is_nil() && to.node != name_index_) {
    pending_.add(ref, std::move(waiter), timeout == kInfinity ? kNoDeadline : std::chrono::steady_clock::now() + timeout);
    if (auto failed = cluster_->route_call(to, cur ? cur->pid() : node_pid(), ref, std::move(request)))
      pending_.complete(ref, std::move(*failed));
    return;
  }
  if (!is_local(to) && !to.is_nil() && to.node != name_index_)
    return fail_now(CallOutcome::failed(CallOutcome::Status::noconnection, ExitReason::noconnection()));
  auto proc = find(to);
  if (!proc) return fail_now(CallOutcome::failed(CallOutcome::Status::noproc, ExitReason::noproc()));
  auto deadline = timeout == kInfinity ? kNoDeadline : std::chrono::steady_clock::now() + timeout;
  pending_.add(ref, std::move(waiter), deadline);
  auto caller = cur ? cur->pid() : node_pid();
  if (!proc->deliver(make_envelope(Envelope::Kind::call, caller, ref, std::move(request)), run_here))
    pending_.complete(ref, CallOutcome::failed(CallOutcome::Status::noproc, ExitReason::noproc()));
}

CallOutcome Node::call(Pid to, Term request, Duration timeout) {
  auto waiter = std::make_shared<CallWaiter>();
  auto ref = call_async_here(to, std::move(request), waiter->completion());
  auto deadline = timeout == kInfinity ? std::chrono::steady_clock::time_point::max()
                                       : std::chrono::steady_clock::now() + timeout;
  Executor::BlockingScope blocking(executor_);
  if (!waiter->wait_until(deadline) && ref && cancel_call(ref))
    return CallOutcome::failed(CallOutcome::Status::timeout);
  waiter->wait_until(std::chrono::steady_clock::time_point::max());
  return waiter->take();
}

void Node::reply(const From& to, Term value) {
  // Local callers only for now; a remote caller's node id routes the reply
  // over the cluster connection (cluster issue).
  pending_.complete(to.ref, CallOutcome::reply(std::move(value)));
}

// ---- exits, links, monitors ----------------------------------------------

bool Node::exit(Pid target, ExitReason reason, Pid from) {
  auto* e = make_envelope(Envelope::Kind::exit_signal, from.is_nil() ? current_pid_or(node_pid()) : from, 0);
  e->reason = std::make_unique<ExitReason>(std::move(reason));
  return deliver(target, e);
}

bool Node::shutdown(Pid target, ExitReason reason, Pid from, bool run_here) {
  auto* e = make_envelope(Envelope::Kind::exit_signal, from.is_nil() ? current_pid_or(node_pid()) : from, 0,
                          Term(static_cast<std::int64_t>(ExitSignalMode::orderly)));
  e->reason = std::make_unique<ExitReason>(std::move(reason));
  return run_here ? deliver_here(target, e) : deliver(target, e);
}

bool Node::kill(Pid target, Pid from, bool run_here) {
  auto* e = make_envelope(Envelope::Kind::exit_signal, from.is_nil() ? current_pid_or(node_pid()) : from, 0,
                          Term(static_cast<std::int64_t>(ExitSignalMode::kill)));
  e->reason = std::make_unique<ExitReason>(ExitReason::killed());
  return run_here ? deliver_here(target, e) : deliver(target, e);
}

bool Node::deliver_here(Pid to, Envelope* e) {
  auto proc = find(to);
  if (!proc) {
    delete e;
    return false;
  }
  return proc->deliver(e, /*run_here=*/true);
}

Result<bool> Node::stop_process(Pid target, ExitReason reason, Duration timeout) {
  const bool remote = !is_local(target);
  if (!remote && !alive(target)) return Error{Errc::no_process, "no process " + target.to_string()};
  auto waiter = std::make_shared<CallWaiter>();
  auto done = waiter->completion();
  auto ref = monitor(target, [done](Pid, const ExitReason& r) { done(CallOutcome::failed(CallOutcome::Status::noproc, r)); });
  auto* e = make_envelope(Envelope::Kind::stop, current_pid_or(node_pid()), 0);
  e->reason = std::make_unique<ExitReason>(std::move(reason));
  deliver(target, e);
  auto deadline = timeout == kInfinity ? std::chrono::steady_clock::time_point::max()
                                       : std::chrono::steady_clock::now() + timeout;
  Executor::BlockingScope blocking(executor_);
  if (!waiter->wait_until(deadline)) {
    demonitor(target, ref);
    return Error{Errc::call_timeout, "process " + target.to_string() + " did not stop in time"};
  }
  if (remote) {
    // The DOWN tells a stopped process from one that was never there.
    auto outcome = waiter->take();
    if (outcome.reason.kind == ExitReason::Kind::noproc) return Error{Errc::no_process, "no process " + target.to_string()};
    if (outcome.reason.kind == ExitReason::Kind::noconnection)
      return Error{Errc::no_connection, "node of " + target.to_string() + " is down"};
  }
  return true;
}

bool Node::is_remote(Pid p) const { return cluster_ && !p.is_nil() && p.node != name_index_; }

std::uint64_t Node::monitor(Pid target, std::function<void(Pid, const ExitReason&)> cb) {
  auto ref = next_ref_.fetch_add(1, std::memory_order_relaxed);
  if (is_remote(target)) {
    cluster_->monitor(ref, cluster::RemoteMonitor{{}, target, std::move(cb)});
    return ref;
  }
  auto proc = find(target);
  if (!proc || !proc->add_monitor(Monitor{ref, {}, cb})) cb(target, ExitReason::noproc());
  return ref;
}

std::uint64_t Node::monitor_by(Pid watcher, Pid target) {
  auto ref = next_ref_.fetch_add(1, std::memory_order_relaxed);
  if (is_remote(target)) {
    cluster_->monitor(ref, cluster::RemoteMonitor{watcher, target, {}});
    return ref;
  }
  auto proc = find(target);
  if (!proc || !proc->add_monitor(Monitor{ref, watcher, {}})) {
    auto* d = make_envelope(Envelope::Kind::down, target, ref);
    d->reason = std::make_unique<ExitReason>(ExitReason::noproc());
    deliver(watcher, d);
  }
  return ref;
}

void Node::demonitor(Pid target, std::uint64_t ref) {
  if (is_remote(target)) return cluster_->demonitor(target, ref);
  if (auto proc = find(target)) proc->remove_monitor(ref);
}

void Node::link(Pid a, Pid b) {
  if (a == b) return;
  if (!is_local(a)) std::swap(a, b);  // the local end does the linking
  auto pa = find(a);
  if (!pa) return;
  if (is_remote(b)) {
    if (pa->add_link(b)) cluster_->link(a, b);
    return;
  }
  // a's side first: should b die once it holds the link, its exit signal
  // finds the link in a (a signal from a link a does not hold is void).
  if (!pa->add_link(b)) return;  // a has exited
  auto pb = find(b);
  if (!pb || !pb->add_link(a)) {
    pa->remove_link(b);
    auto* x = make_envelope(Envelope::Kind::exit_signal, b, kBrokenLinkExit);
    x->reason = std::make_unique<ExitReason>(ExitReason::noproc());
    pa->deliver(x);
  }
}

void Node::unlink(Pid a, Pid b) {
  if (!is_local(a)) std::swap(a, b);
  if (is_remote(b)) {
    if (auto pa = find(a)) pa->remove_link(b);
    return cluster_->unlink(a, b);
  }
  if (auto pa = find(a)) pa->remove_link(b);
  if (auto pb = find(b)) pb->remove_link(a);
}

void Node::peer_down(std::uint32_t node, std::uint32_t creation) {
  std::vector<std::shared_ptr<Process>> procs;
  for (auto& s : table_) {
    std::lock_guard lk(s.mu);
    for (auto& [serial, p] : s.procs) procs.push_back(p);
  }
  for (auto& p : procs)
    for (Pid gone : p->take_links_to(node, creation)) {
      auto* x = make_envelope(Envelope::Kind::exit_signal, gone, kBrokenLinkExit);
      x->reason = std::make_unique<ExitReason>(ExitReason::noconnection());
      p->deliver(x);
    }
}

// ---- timers --------------------------------------------------------------

TimerRef Node::send_after(Pid to, Duration delay, Term message) {
  auto id = next_ref_.fetch_add(1, std::memory_order_relaxed);
  auto timer = std::make_unique<asio::steady_timer>(executor_.io(), delay);
  auto* t = timer.get();
  // Registered before the wait starts: a zero delay may fire at once, and
  // the handler tells "cancelled" from "fired" by the registration.
  std::lock_guard lk(timers_mu_);
  timers_.emplace(id, std::move(timer));
  t->async_wait([this, id, to, message = std::move(message)](const std::error_code& ec) mutable {
    if (ec) return;
    {
      std::lock_guard lk(timers_mu_);
      if (timers_.erase(id) == 0) return;  // cancelled just now
    }
    deliver(to, make_envelope(Envelope::Kind::info, to, id, std::move(message)));
  });
  return TimerRef{id};
}

bool Node::cancel_timer(TimerRef t) {
  std::unique_ptr<asio::steady_timer> timer;
  {
    std::lock_guard lk(timers_mu_);
    auto it = timers_.find(t.id);
    if (it == timers_.end()) return false;
    timer = std::move(it->second);
    timers_.erase(it);
  }
  timer->cancel();
  return true;
}

}  // namespace noexpp
