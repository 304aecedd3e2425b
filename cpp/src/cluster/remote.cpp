// Processes on other nodes: outgoing messages, calls, monitors and links
// become frames on the peer's connection; incoming frames are applied to
// this node's processes. The receiving side re-checks every pid (this node,
// this incarnation): a peer cannot make a node forward frames elsewhere.
#include <stdexcept>

#include "../core/log.hpp"
#include "noexpp/cluster/cluster.hpp"
#include "noexpp/core/behavior_registry.hpp"
#include "noexpp/core/node.hpp"
#include "noexpp/core/process.hpp"

namespace noexpp::cluster {
namespace {

/// A frame whose items have the wrong types: the connection is closed.
[[noreturn]] void malformed(const Frame& f, const char* what) {
  throw std::invalid_argument(std::string("malformed ") + to_string(f.kind) + " frame: " + what);
}

Pid pid_item(const Frame& f, std::size_t i, const char* what) {
  if (!f.at(i).is_pid()) malformed(f, what);
  return f.at(i).as_pid();
}

std::uint64_t ref_item(const Frame& f, std::size_t i) {
  if (!f.at(i).is_int()) malformed(f, "ref is not an integer");
  return static_cast<std::uint64_t>(f.at(i).as_int());
}

/// A failed request to a node travels as an error exit reason whose type
/// names the engine error code, so the caller can raise the same error.
ExitReason node_request_error(const Error& e) {
  return ExitReason::error(std::string(kNodeRequestErrorPrefix) + std::to_string(static_cast<int>(e.code)), e.detail);
}

Term ref_term(std::uint64_t ref) { return Term(static_cast<std::int64_t>(ref)); }

bool wire_envelope_kind(std::int64_t k) {
  using K = Envelope::Kind;
  switch (static_cast<K>(k)) {
    case K::info: case K::cast: case K::exit_signal: case K::stop: case K::down: return true;
    default: return false;
  }
}

Envelope* exit_envelope(Pid from, ExitReason reason) {
  auto* e = new Envelope(Envelope::Kind::exit_signal, from, kBrokenLinkExit);
  e->reason = std::make_unique<ExitReason>(std::move(reason));
  return e;
}

}  // namespace

std::optional<Errc> errc_of_node_request(const ExitReason& r) {
  const std::string_view prefix = kNodeRequestErrorPrefix;
  if (r.kind != ExitReason::Kind::error || r.error_type.rfind(prefix, 0) != 0) return std::nullopt;
  try {
    return static_cast<Errc>(std::stoi(r.error_type.substr(prefix.size())));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// ---- outgoing -----------------------------------------------------------------

Result<bool> Cluster::route(Pid to, Envelope& e) {
  auto c = route_to(to.node);
  if (!c) return Error{Errc::no_connection, "node " + node_name(to.node) + " is not connected"};
  if (c->peer_creation() != to.creation) return false;  // an older incarnation's pid: gone
  return c->send(FrameKind::envelope, {Term(static_cast<std::int64_t>(e.kind)), Term(to), Term(e.from),
                                       ref_term(e.ref), std::move(e.term),
                                       e.reason ? e.reason->to_term() : Term()});
}

std::optional<CallOutcome> Cluster::route_call(Pid to, Pid from, std::uint64_t ref, Term request) {
  auto c = route_to(to.node);
  if (!c || !c->track_call(ref)) return CallOutcome::failed(CallOutcome::Status::noconnection, ExitReason::noconnection());
  if (c->peer_creation() != to.creation) {
    c->untrack_call(ref);
    return CallOutcome::failed(CallOutcome::Status::noproc, ExitReason::noproc());
  }
  auto sent = c->send(FrameKind::call, {Term(to), Term(from), ref_term(ref), std::move(request)});
  if (sent) return std::nullopt;
  c->untrack_call(ref);
  if (sent.error().code == Errc::message_too_large) {
    auto r = ExitReason::noproc();
    r.message = sent.error().detail;
    return CallOutcome::failed(CallOutcome::Status::too_large, std::move(r));
  }
  return CallOutcome::failed(CallOutcome::Status::noconnection, ExitReason::noconnection());
}

void Cluster::monitor(std::uint64_t ref, RemoteMonitor m) {
  auto c = route_to(m.target.node);
  const Pid target = m.target, watcher = m.watcher;
  auto fire_now = [&](ExitReason r) {
    if (m.callback) {
      node_.executor().post([cb = std::move(m.callback), target, r] { cb(target, r); });
    } else {
      auto* d = new Envelope(Envelope::Kind::down, target, ref);
      d->reason = std::make_unique<ExitReason>(std::move(r));
      node_.deliver(watcher, d);
    }
  };
  if (!c) return fire_now(ExitReason::noconnection());
  if (c->peer_creation() != target.creation) return fire_now(ExitReason::noproc());
  if (!c->track_monitor(ref, m)) return fire_now(ExitReason::noconnection());
  c->send(FrameKind::monitor, {Term(watcher.is_nil() ? node_.node_pid() : watcher), Term(target), ref_term(ref)});
}

void Cluster::demonitor(Pid target, std::uint64_t ref) {
  auto c = route_to(target.node);
  if (c && c->untrack_monitor(ref)) c->send(FrameKind::demonitor, {Term(target), ref_term(ref)});
}

void Cluster::link(Pid from, Pid to) {
  auto c = route_to(to.node);
  const bool stale = c && c->peer_creation() != to.creation;
  if (!c || stale || !c->send(FrameKind::link, {Term(from), Term(to)})) {
    if (auto p = node_.find(from)) p->remove_link(to);
    node_.deliver(from, exit_envelope(to, stale ? ExitReason::noproc() : ExitReason::noconnection()));
  }
}

void Cluster::unlink(Pid from, Pid to) {
  if (auto c = route_to(to.node)) c->send(FrameKind::unlink, {Term(from), Term(to)});
}

void Cluster::fail_in_flight(Connection& c) {
  auto in_flight = c.take_in_flight();
  for (auto ref : in_flight.calls)
    node_.pending().complete(ref, CallOutcome::failed(CallOutcome::Status::noconnection, ExitReason::noconnection()));
  for (auto& [ref, m] : in_flight.monitors) {
    if (m.callback) {
      node_.executor().post([cb = std::move(m.callback), target = m.target] { cb(target, ExitReason::noconnection()); });
    } else {
      auto* d = new Envelope(Envelope::Kind::down, m.target, ref);
      d->reason = std::make_unique<ExitReason>(ExitReason::noconnection());
      node_.deliver(m.watcher, d);
    }
  }
  for (auto& m : in_flight.installed) node_.demonitor(m.target, m.local_ref);
}

// ---- incoming -----------------------------------------------------------------

void Cluster::on_frame(Connection& c, Frame& f) {
  switch (f.kind) {
    case FrameKind::envelope: return on_envelope(c, f);
    case FrameKind::call: return on_call(c, f);
    case FrameKind::reply: return on_reply(c, f);
    case FrameKind::monitor: return on_monitor(c, f);
    case FrameKind::demonitor: return on_demonitor(c, f);
    case FrameKind::down: return on_down(c, f);
    case FrameKind::link: return on_link(c, f);
    case FrameKind::unlink: return on_unlink(c, f);
    case FrameKind::members: return on_members(c, f);
    case FrameKind::node_message: return on_node_message(c, f);
    default: malformed(f, "unexpected kind");
  }
}

void Cluster::on_envelope(Connection&, Frame& f) {
  if (!f.at(0).is_int() || !wire_envelope_kind(f.at(0).as_int())) malformed(f, "bad envelope kind");
  const Pid to = pid_item(f, 1, "target is not a pid");
  const Pid from = pid_item(f, 2, "sender is not a pid");
  const auto ref = ref_item(f, 3);
  if (!node_.is_local(to)) return;  // for an older incarnation of this node: gone
  auto* e = new Envelope(static_cast<Envelope::Kind>(f.at(0).as_int()), from, ref, std::move(f.items[4]));
  if (!f.at(5).is_nil()) e->reason = std::make_unique<ExitReason>(ExitReason::from_term(f.at(5)));
  node_.deliver(to, e);
}

void Cluster::on_call(Connection& c, Frame& f) {
  const Pid to = pid_item(f, 0, "target is not a pid");
  const Pid from = pid_item(f, 1, "caller is not a pid");
  const auto remote_ref = ref_item(f, 2);
  std::weak_ptr<Connection> back = c.shared_from_this();
  // True when the answer left (or is queued) for the caller's node.
  auto answer = [back, remote_ref](CallOutcome o) -> bool {
    auto conn = back.lock();
    if (!conn) return false;
    auto sent = conn->send(FrameKind::reply, {ref_term(remote_ref), Term(static_cast<std::int64_t>(o.status)),
                                              std::move(o.value), o.ok() ? Term() : o.reason.to_term()});
    if (!sent && sent.error().code == Errc::message_too_large) {
      auto r = ExitReason::noproc();
      r.message = "the reply " + sent.error().detail;
      return conn->send(FrameKind::reply, {ref_term(remote_ref), Term(static_cast<std::int64_t>(CallOutcome::Status::too_large)),
                                           Term(), Term(r.message)})
          .ok();
    }
    return sent.ok();
  };
  if (!node_.is_local(to)) {
    answer(CallOutcome::failed(CallOutcome::Status::noproc, ExitReason::noproc()));
    return;
  }
  if (to.is_node_itself()) {
    // Requests to the node itself run on an engine thread, never here.
    node_.executor().post([this, answer, request = std::move(f.items[3])] {
      auto r = node_request(request);
      if (r) {
        const Term result = r.value();
        // A spawn whose answer cannot reach the spawner (its node went
        // away meanwhile) would leave an orphan: stop the child instead.
        if (!answer(CallOutcome::reply(std::move(r.value()))) && result.is_pid() && node_.is_local(result.as_pid()))
          node_.stop_async(result.as_pid(), ExitReason::shutdown());
      } else {
        answer(CallOutcome::failed(CallOutcome::Status::crashed, node_request_error(r.error())));
      }
    });
    return;
  }
  // The call is a local one whose completion answers the peer: crashes,
  // replies from handle_call or reply(), and exits all go through it.
  auto& pending = node_.pending();
  const auto ref = pending.reserve_ref();
  pending.add(ref, CallWaiterRef{nullptr, answer});
  auto proc = node_.find(to);
  if (!proc || !proc->deliver(new Envelope(Envelope::Kind::call, from, ref, std::move(f.items[3]))))
    pending.complete(ref, CallOutcome::failed(CallOutcome::Status::noproc, ExitReason::noproc()));
}

void Cluster::on_reply(Connection& c, Frame& f) {
  const auto ref = ref_item(f, 0);
  if (!f.at(1).is_int()) malformed(f, "status is not an integer");
  c.untrack_call(ref);
  const auto status = static_cast<CallOutcome::Status>(f.at(1).as_int());
  bool spawn_reply = false;
  {
    std::lock_guard lk(spawns_mu_);
    spawn_reply = spawns_.erase(ref) > 0;
  }
  if (status == CallOutcome::Status::ok) {
    const Term child = spawn_reply && f.at(2).is_pid() ? f.at(2) : Term();
    if (!node_.pending().complete(ref, CallOutcome::reply(std::move(f.items[2]))) && child.is_pid()) {
      // The spawner gave up before this reply came: stop the late child.
      Envelope stop(Envelope::Kind::stop, node_.node_pid(), 0);
      stop.reason = std::make_unique<ExitReason>(ExitReason::shutdown());
      route(child.as_pid(), stop);
    }
  } else if (status == CallOutcome::Status::too_large) {
    auto r = ExitReason::noproc();
    r.message = f.at(3).is_string() ? f.at(3).as_string() : "reply too large";
    node_.pending().complete(ref, CallOutcome::failed(status, std::move(r)));
  } else {
    node_.pending().complete(ref, CallOutcome::failed(status, ExitReason::from_term(f.at(3))));
  }
}

void Cluster::on_monitor(Connection& c, Frame& f) {
  const Pid watcher = pid_item(f, 0, "watcher is not a pid");
  const Pid target = pid_item(f, 1, "target is not a pid");
  const auto remote_ref = ref_item(f, 2);
  std::weak_ptr<Connection> back = c.shared_from_this();
  auto fired = std::make_shared<std::atomic<bool>>(false);
  auto forward = [back, watcher, remote_ref, fired](Pid t, const ExitReason& r) {
    fired->store(true);
    if (auto conn = back.lock()) {
      conn->uninstall_monitor(remote_ref);
      conn->send(FrameKind::down, {Term(watcher), Term(t), ref_term(remote_ref), r.to_term()});
    }
  };
  if (!node_.is_local(target)) return forward(target, ExitReason::noproc());
  const auto local_ref = node_.monitor(target, forward);
  if (!fired->load()) c.install_monitor(remote_ref, InstalledMonitor{target, local_ref});
}

void Cluster::on_demonitor(Connection& c, Frame& f) {
  pid_item(f, 0, "target is not a pid");
  if (auto m = c.uninstall_monitor(ref_item(f, 1))) node_.demonitor(m->target, m->local_ref);
}

void Cluster::on_down(Connection& c, Frame& f) {
  pid_item(f, 0, "watcher is not a pid");
  const Pid target = pid_item(f, 1, "target is not a pid");
  const auto ref = ref_item(f, 2);
  auto m = c.untrack_monitor(ref);
  if (!m) return;  // demonitored meanwhile
  auto reason = ExitReason::from_term(f.at(3));
  if (m->callback) {
    node_.executor().post([cb = std::move(m->callback), target, reason] { cb(target, reason); });
  } else {
    auto* d = new Envelope(Envelope::Kind::down, target, ref);
    d->reason = std::make_unique<ExitReason>(std::move(reason));
    node_.deliver(m->watcher, d);
  }
}

void Cluster::on_link(Connection& c, Frame& f) {
  const Pid from = pid_item(f, 0, "linker is not a pid");
  const Pid to = pid_item(f, 1, "link target is not a pid");
  auto proc = node_.is_local(to) ? node_.find(to) : nullptr;
  if (proc && proc->add_link(from)) return;
  // As Erlang: linking to a process that is gone sends noproc back.
  Envelope e(Envelope::Kind::exit_signal, to, kLinkExit);
  e.reason = std::make_unique<ExitReason>(ExitReason::noproc());
  route(from, e);
}

void Cluster::on_node_message(Connection& c, Frame& f) {
  if (!f.at(0).is_string()) malformed(f, "op is not a string");
  auto it = message_handlers_.find(f.at(0).as_string());
  if (it != message_handlers_.end()) it->second(c.peer_id(), f.at(1));
}

void Cluster::on_unlink(Connection&, Frame& f) {
  const Pid from = pid_item(f, 0, "unlinker is not a pid");
  const Pid to = pid_item(f, 1, "unlink target is not a pid");
  if (auto proc = node_.find(to)) proc->remove_link(from);
}

// ---- requests to the node itself -------------------------------------------------

Result<Term> Cluster::node_request(const Term& request) {
  const auto* items = request.is_tuple() ? &request.as_tuple().items : request.is_list() ? &request.as_list().items : nullptr;
  const std::string op = items && !items->empty() && (*items)[0].is_string() ? (*items)[0].as_string()
                         : request.is_string()                             ? request.as_string()
                                                                           : "";
  if (auto it = request_handlers_.find(op); it != request_handlers_.end()) return it->second(request);
  auto arg = [&](std::size_t i) -> const Term& {
    static const Term nil;
    return items && i < items->size() ? (*items)[i] : nil;
  };
  if (op == "members") {
    std::vector<Term> out;
    out.emplace_back(local_id());
    for (auto& m : members())
      if (m.status == "up") out.emplace_back(m.id);
    return Term::list(std::move(out));
  }
  if (op == "process_count") return Term(local_process_count());
  if (op == "alive" && arg(1).is_pid()) return Term(node_.is_local(arg(1).as_pid()) && node_.alive(arg(1).as_pid()));
  if (op == "whereis" && arg(1).is_string()) {
    auto p = node_.whereis(arg(1).as_string());
    return p ? Term(*p) : Term();
  }
  if (op == "partition" && arg(1).is_string() && arg(2).is_bool()) {
    set_partitioned(arg(1).as_string(), arg(2).as_bool());
    return Term();
  }
  if (op == "spawn" && arg(1).is_string()) {
    // Remote spawn by behavior name (DESIGN §6): the factory comes from this
    // OS process's behavior registry; args arrive as Terms.
    const auto& name = arg(1).as_string();
    auto entry = BehaviorRegistry::instance().find(name);
    if (!entry) return Error{Errc::behavior_not_found, "no behavior registered as '" + name + "' on node " + local_id()};
    SpawnOptions opts;
    if (arg(3).is_string()) opts.name = arg(3).as_string();
    auto pid = node_.spawn(entry->factory, arg(2), opts);
    if (!pid) return Error{pid.error().code, pid.error().detail + " (on node " + local_id() + ")"};
    return Term(pid.value());
  }
  if (op == "delay" && arg(1).is_string() && (arg(2).is_float() || arg(2).is_int())) {
    const double seconds = arg(2).is_float() ? arg(2).as_float() : static_cast<double>(arg(2).as_int());
    if (!(seconds >= 0 && seconds <= 3600)) return Error{Errc::invalid_argument, "delay must be 0 to 3600 seconds"};
    set_delay(arg(1).as_string(), std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6)));
    return Term();
  }
  if (op == "heal") {
    heal_all();
    return Term();
  }
  return Error{Errc::invalid_argument, "unknown node request " + (op.empty() ? std::string("(no operation)") : op)};
}

}  // namespace noexpp::cluster

namespace noexpp::cluster {

// ---- requests and messages between nodes ---------------------------------------

Result<Term> Cluster::request(const std::string& id, Term request, Duration timeout) {
  auto target = node_pid(id);
  if (!target) return Error{Errc::no_connection, "node " + id + " is not connected to " + local_id()};
  auto o = node_.call(*target, std::move(request), timeout);
  if (o.ok()) return std::move(o.value);
  if (auto code = errc_of_node_request(o.reason)) return Error{*code, o.reason.message};
  switch (o.status) {
    case CallOutcome::Status::timeout: return Error{Errc::call_timeout, "node " + id + " did not answer in time"};
    case CallOutcome::Status::noconnection: return Error{Errc::no_connection, "node " + id + " went down during the request"};
    case CallOutcome::Status::too_large: return Error{Errc::message_too_large, o.reason.message};
    default: return Error{Errc::no_connection, "request to node " + id + " failed: " + o.reason.to_string()};
  }
}

Result<Pid> Cluster::spawn(const std::string& id, const std::string& behavior, Term args, const std::string& name,
                           Duration timeout) {
  auto target = node_pid(id);
  if (!target) return Error{Errc::no_connection, "node " + id + " is not connected to " + local_id()};
  auto waiter = std::make_shared<CallWaiter>();
  const auto ref = node_.pending().reserve_ref();
  {
    std::lock_guard lk(spawns_mu_);
    spawns_.emplace(ref, true);
  }
  node_.call_with_ref(ref, *target,
                      Term::tuple({Term("spawn"), Term(behavior), std::move(args), name.empty() ? Term() : Term(name)}),
                      timeout, CallWaiterRef{nullptr, waiter->completion()});
  Executor::BlockingScope blocking(node_.executor());
  waiter->wait_until(std::chrono::steady_clock::time_point::max());  // the pending table's deadline bounds it
  auto o = waiter->take();
  if (o.status != CallOutcome::Status::ok) {
    // No reply will come for these (a late one still finds the ref, above).
    if (o.status != CallOutcome::Status::timeout) {
      std::lock_guard lk(spawns_mu_);
      spawns_.erase(ref);
    }
  }
  if (o.ok()) {
    if (!o.value.is_pid()) return Error{Errc::invalid_argument, "node " + id + " answered a spawn with no pid"};
    return o.value.as_pid();
  }
  if (auto code = errc_of_node_request(o.reason)) return Error{*code, o.reason.message};
  if (o.status == CallOutcome::Status::timeout)
    return Error{Errc::call_timeout, "spawn of '" + behavior + "' on " + id + " did not answer in time"};
  if (o.status == CallOutcome::Status::too_large) return Error{Errc::message_too_large, o.reason.message};
  return Error{Errc::no_connection, "node " + id + " went down during the spawn of '" + behavior + "'"};
}

void Cluster::add_request_handler(std::string op, RequestHandler handler) {
  request_handlers_[std::move(op)] = std::move(handler);
}

void Cluster::add_message_handler(std::string op, MessageHandler handler) {
  message_handlers_[std::move(op)] = std::move(handler);
}

Result<bool> Cluster::send_node_message(const std::string& id, const std::string& op, Term payload) {
  auto c = route_to(intern_node_name(id));
  if (!c) return Error{Errc::no_connection, "node " + id + " is not connected"};
  return c->send(FrameKind::node_message, {Term(op), std::move(payload)});
}

void Cluster::broadcast_node_message(const std::string& op, const Term& payload) {
  std::vector<std::shared_ptr<Connection>> conns;
  {
    std::lock_guard lk(routes_mu_);
    for (auto& [index, c] : routes_)
      if (!c->peer_hidden()) conns.push_back(c);
  }
  for (auto& c : conns) c->send(FrameKind::node_message, {Term(op), payload});
}

std::vector<std::string> Cluster::up_members() const {
  std::vector<std::string> out;
  std::lock_guard lk(routes_mu_);
  for (auto& [index, c] : routes_)
    if (!c->peer_hidden()) out.push_back(c->peer_id());
  return out;
}

}  // namespace noexpp::cluster
