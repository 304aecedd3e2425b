// Processes on other nodes: outgoing messages, calls, monitors and links
// become frames on the peer's connection; incoming frames are applied to
// this node's processes. The receiving side re-checks every pid (this node,
// this incarnation): a peer cannot make a node forward frames elsewhere.
#include "cluster/remote_router.hpp"

#include <stdexcept>

#include "core/internal/log.hpp"
#include "core/internal/node_internals.hpp"

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

/// An exit reason the frame must carry.
ExitReason reason_item(const Frame& f, std::size_t i) {
  if (f.at(i).is_nil()) malformed(f, "the reason is missing");
  return ExitReason::from_term(f.at(i));
}

Term ref_term(std::uint64_t ref) { return Term(static_cast<std::int64_t>(ref)); }

bool wire_envelope_kind(std::int64_t k) {
  using K = Envelope::Kind;
  switch (static_cast<K>(k)) {
    case K::info: case K::cast: case K::exit_signal: case K::stop: case K::down: return true;
    default: return false;
  }
}

/// [ref, status, value, reason, detail]: the reply to call `ref`.
std::vector<Term> reply_items(std::uint64_t ref, CallOutcome o) {
  const bool ok = o.ok();
  return {ref_term(ref), Term(static_cast<std::int64_t>(o.status)), ok ? std::move(o.value) : Term(),
          ok ? Term() : o.reason.to_term(), o.detail.empty() ? Term() : Term(std::move(o.detail))};
}

CallOutcome no_connection() { return CallOutcome::failed(Errc::no_connection, ExitReason::noconnection()); }

}  // namespace

RemoteRouter::RemoteRouter(Node& node, NodeRequestHandler node_requests)
    : node_(node), node_requests_(std::move(node_requests)) {}

// ---- routes ---------------------------------------------------------------------

void RemoteRouter::route_up(const std::shared_ptr<Connection>& c) {
  std::lock_guard lk(routes_mu_);
  routes_[c->peer_index()] = c;
}

void RemoteRouter::route_down(const std::shared_ptr<Connection>& c) {
  {
    std::lock_guard lk(routes_mu_);
    if (auto it = routes_.find(c->peer_index()); it != routes_.end() && it->second == c) routes_.erase(it);
  }
  // The connection is closed already: what is added for it from now on
  // sees that and fails by itself (call, monitor), so nothing is missed.
  const auto route = c->id();
  NodeInternals::calls(node_).fail_route(route, no_connection());
  std::vector<std::pair<std::uint64_t, RemoteMonitor>> lost;
  std::vector<InstalledMonitor> installed;
  {
    std::lock_guard lk(monitors_mu_);
    for (auto it = monitors_.begin(); it != monitors_.end();) {
      if (it->second.route == route) {
        lost.emplace_back(it->first, std::move(it->second));
        it = monitors_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = installed_.lower_bound({route, 0}); it != installed_.end() && it->first.first == route;) {
      installed.push_back(it->second);
      it = installed_.erase(it);
    }
  }
  for (auto& [ref, m] : lost) fire_down(ref, std::move(m), ExitReason::noconnection());
  for (auto& m : installed) node_.demonitor(m.target, m.local_ref);
  NodeInternals::break_links_to(node_, c->peer_index(), c->peer_creation());
}

std::shared_ptr<Connection> RemoteRouter::route_to(std::uint32_t node_index) const {
  std::lock_guard lk(routes_mu_);
  auto it = routes_.find(node_index);
  return it == routes_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Connection>> RemoteRouter::routes() const {
  std::vector<std::shared_ptr<Connection>> out;
  std::lock_guard lk(routes_mu_);
  for (auto& [index, c] : routes_) out.push_back(c);
  return out;
}

// ---- outgoing ---------------------------------------------------------------------

Result<bool> RemoteRouter::send(Pid to, const Envelope& e) {
  auto c = route_to(to.node);
  if (!c) return Error{Errc::no_connection, "node " + node_name(to.node) + " is not connected"};
  if (c->peer_creation() != to.creation) return false;  // an older incarnation's pid: gone
  // Messages wait for room (backpressure); the engine's signals never do.
  if (e.kind == Envelope::Kind::cast || e.kind == Envelope::Kind::info) {
    if (auto room = c->wait_for_room(to.serial); !room) return room.error();
  }
  return c->send(FrameKind::envelope, {Term(static_cast<std::int64_t>(e.kind)), Term(to), Term(e.from),
                                       ref_term(e.ref), e.term, e.reason ? e.reason->to_term() : Term()});
}

void RemoteRouter::call(Pid to, Pid from, std::uint64_t ref, Term request, CallWaiterRef waiter, Deadline deadline) {
  auto c = route_to(to.node);
  if (!c) return PendingCalls::finish_now(std::move(waiter), ref, no_connection());
  if (c->peer_creation() != to.creation)
    return PendingCalls::finish_now(std::move(waiter), ref, CallOutcome::failed(Errc::no_process, ExitReason::noproc()));
  auto& calls = NodeInternals::calls(node_);
  const auto route = c->id();
  calls.add(ref, std::move(waiter), deadline, route);
  // Closed after route_down's sweep began: the sweep may have missed it.
  if (c->closed()) {
    calls.complete_on_route(ref, route, no_connection());
    return;
  }
  auto sent = c->send(FrameKind::call, {Term(to), Term(from), ref_term(ref), std::move(request)});
  if (sent) return;
  if (sent.error().code == Errc::message_too_large)
    calls.complete(ref, CallOutcome::failed(Errc::message_too_large, {}, sent.error().detail));
  else
    calls.complete(ref, no_connection());
}

void RemoteRouter::monitor(std::uint64_t ref, Pid watcher, Pid target, Node::MonitorCallback cb) {
  auto c = route_to(target.node);
  RemoteMonitor m{c ? c->id() : 0, watcher, target, std::move(cb)};
  if (!c) return fire_down(ref, std::move(m), ExitReason::noconnection());
  if (c->peer_creation() != target.creation) return fire_down(ref, std::move(m), ExitReason::noproc());
  {
    std::lock_guard lk(monitors_mu_);
    monitors_.emplace(ref, std::move(m));
  }
  // Whoever takes the entry out fires it: this check or route_down's sweep.
  if (c->closed() || !c->send(FrameKind::monitor, {Term(watcher.is_nil() ? node_.node_pid() : watcher), Term(target),
                                                   ref_term(ref)})) {
    if (auto gone = take_monitor(ref)) fire_down(ref, std::move(*gone), ExitReason::noconnection());
  }
}

void RemoteRouter::demonitor(Pid target, std::uint64_t ref) {
  if (!take_monitor(ref)) return;
  if (auto c = route_to(target.node)) c->send(FrameKind::demonitor, {Term(target), ref_term(ref)});
}

void RemoteRouter::link(Pid local, Pid remote) {
  auto c = route_to(remote.node);
  if (!c) return break_link(local, remote, ExitReason::noconnection());
  if (c->peer_creation() != remote.creation) return break_link(local, remote, ExitReason::noproc());
  if (!c->send(FrameKind::link, {Term(local), Term(remote)})) break_link(local, remote, ExitReason::noconnection());
}

void RemoteRouter::unlink(Pid local, Pid remote) {
  if (auto c = route_to(remote.node)) c->send(FrameKind::unlink, {Term(local), Term(remote)});
}

void RemoteRouter::tell_backpressure(Pid local, std::uint64_t route, bool full) {
  std::shared_ptr<Connection> c;
  {
    std::lock_guard lk(routes_mu_);
    for (auto& [index, r] : routes_)
      if (r->id() == route) c = r;
  }
  if (c) c->send(full ? FrameKind::mailbox_full : FrameKind::mailbox_room, {Term(local)});
}

void RemoteRouter::break_link(Pid local, Pid remote, ExitReason reason) {
  NodeInternals::remove_link(node_, local, remote);
  NodeInternals::deliver_local(node_, local,
                               Envelope::with_reason(Envelope::Kind::exit_signal, remote, kBrokenLinkExit, std::move(reason)));
}

std::optional<RemoteRouter::RemoteMonitor> RemoteRouter::take_monitor(std::uint64_t ref, std::uint64_t route) {
  std::lock_guard lk(monitors_mu_);
  auto it = monitors_.find(ref);
  if (it == monitors_.end() || (route != 0 && it->second.route != route)) return std::nullopt;
  auto m = std::move(it->second);
  monitors_.erase(it);
  return m;
}

void RemoteRouter::fire_down(std::uint64_t ref, RemoteMonitor m, ExitReason reason) {
  if (m.callback) {
    // Callbacks run on an engine thread, never on the network thread.
    NodeInternals::executor(node_).post(
        [cb = std::move(m.callback), target = m.target, reason = std::move(reason)] { cb(target, reason); });
  } else {
    NodeInternals::deliver_local(node_, m.watcher,
                                 Envelope::with_reason(Envelope::Kind::down, m.target, ref, std::move(reason)));
  }
}

// ---- incoming ---------------------------------------------------------------------

bool RemoteRouter::is_process_frame(FrameKind k) {
  switch (k) {
    case FrameKind::envelope: case FrameKind::call: case FrameKind::reply: case FrameKind::monitor:
    case FrameKind::demonitor: case FrameKind::down: case FrameKind::link: case FrameKind::unlink:
    case FrameKind::mailbox_full: case FrameKind::mailbox_room:
      return true;
    default: return false;
  }
}

void RemoteRouter::on_frame(Connection& c, Frame& f) {
  switch (f.kind) {
    case FrameKind::envelope: return on_envelope(c, f);
    case FrameKind::call: return on_call(c, f);
    case FrameKind::reply: return on_reply(c, f);
    case FrameKind::monitor: return on_monitor(c, f);
    case FrameKind::demonitor: return on_demonitor(c, f);
    case FrameKind::down: return on_down(c, f);
    case FrameKind::link: return on_link(c, f);
    case FrameKind::unlink: return on_unlink(c, f);
    case FrameKind::mailbox_full: return on_mailbox_full(c, f, true);
    case FrameKind::mailbox_room: return on_mailbox_full(c, f, false);
    default: malformed(f, "not a process frame");
  }
}

void RemoteRouter::on_envelope(Connection& c, Frame& f) {
  if (!f.at(0).is_int() || !wire_envelope_kind(f.at(0).as_int())) malformed(f, "bad envelope kind");
  const auto kind = static_cast<Envelope::Kind>(f.at(0).as_int());
  const Pid to = pid_item(f, 1, "target is not a pid");
  const Pid from = pid_item(f, 2, "sender is not a pid");
  const auto ref = ref_item(f, 3);
  std::unique_ptr<ExitReason> reason;
  if (kind == Envelope::Kind::exit_signal || kind == Envelope::Kind::stop || kind == Envelope::Kind::down)
    reason = std::make_unique<ExitReason>(reason_item(f, 5));
  if (kind == Envelope::Kind::exit_signal && ref != 0 && ref != kLinkExit && ref != kBrokenLinkExit)
    malformed(f, "an exit signal's ref is not 0, link or broken link");
  if (!node_.is_local(to)) return;  // for an older incarnation of this node: gone
  auto* e = new Envelope(kind, from, ref, f.take(4));
  e->reason = std::move(reason);
  if (kind == Envelope::Kind::cast || kind == Envelope::Kind::info)
    NodeInternals::deliver_from_peer(node_, to, e, c.id(),
                                     static_cast<std::int64_t>(c.options().remote_mailbox_limit));
  else
    NodeInternals::deliver_local(node_, to, e);
}

void RemoteRouter::on_call(Connection& c, Frame& f) {
  const Pid to = pid_item(f, 0, "target is not a pid");
  const Pid from = pid_item(f, 1, "caller is not a pid");
  const auto remote_ref = ref_item(f, 2);
  std::weak_ptr<Connection> back = c.shared_from_this();
  // True when the answer left (or is queued) for the caller's node.
  auto answer = [back, remote_ref](CallOutcome o) -> bool {
    auto conn = back.lock();
    if (!conn) return false;
    auto sent = conn->send(FrameKind::reply, reply_items(remote_ref, std::move(o)));
    if (!sent && sent.error().code == Errc::message_too_large)
      return conn->send(FrameKind::reply,
                        reply_items(remote_ref, CallOutcome::failed(Errc::message_too_large, {},
                                                                    "the reply " + sent.error().detail)))
          .ok();
    return sent.ok();
  };
  if (!node_.is_local(to)) {
    answer(CallOutcome::failed(Errc::no_process, ExitReason::noproc()));
    return;
  }
  if (to.is_node_itself()) return node_requests_(f.take(3), std::move(answer));
  // A local call whose completion answers the peer: replies from
  // handle_call or reply(), crashes and exits all go through it.
  NodeInternals::call_local(node_, to, from, f.take(3), [answer](CallOutcome o) { answer(std::move(o)); });
}

void RemoteRouter::on_reply(Connection& c, Frame& f) {
  const auto ref = ref_item(f, 0);
  if (!f.at(1).is_int() || !is_call_status(f.at(1).as_int())) malformed(f, "the status is not a call status");
  if (!f.at(4).is_nil() && !f.at(4).is_string()) malformed(f, "the detail is not a string");
  CallOutcome o;
  o.status = static_cast<Errc>(f.at(1).as_int());
  if (o.ok()) {
    o.value = f.take(2);
  } else {
    if (!f.at(3).is_nil()) o.reason = ExitReason::from_term(f.at(3));
    if (f.at(4).is_string()) o.detail = f.at(4).as_string();
  }
  // Only the connection the call went out on may answer it, and only once.
  NodeInternals::calls(node_).complete_on_route(ref, c.id(), std::move(o));
}

void RemoteRouter::on_monitor(Connection& c, Frame& f) {
  const Pid watcher = pid_item(f, 0, "watcher is not a pid");
  const Pid target = pid_item(f, 1, "target is not a pid");
  const auto remote_ref = ref_item(f, 2);
  const auto route = c.id();
  std::weak_ptr<Connection> back = c.shared_from_this();
  auto fired = std::make_shared<std::atomic<bool>>(false);
  auto forward = [this, back, route, watcher, remote_ref, fired](Pid t, const ExitReason& r) {
    fired->store(true);
    {
      std::lock_guard lk(monitors_mu_);
      installed_.erase({route, remote_ref});
    }
    if (auto conn = back.lock()) conn->send(FrameKind::down, {Term(watcher), Term(t), ref_term(remote_ref), r.to_term()});
  };
  if (!node_.is_local(target)) return forward(target, ExitReason::noproc());
  const auto local_ref = node_.monitor(target, forward);
  std::lock_guard lk(monitors_mu_);
  if (!fired->load() && !c.closed()) installed_[{route, remote_ref}] = InstalledMonitor{target, local_ref};
}

void RemoteRouter::on_demonitor(Connection& c, Frame& f) {
  pid_item(f, 0, "target is not a pid");
  const auto remote_ref = ref_item(f, 1);
  std::optional<InstalledMonitor> m;
  {
    std::lock_guard lk(monitors_mu_);
    if (auto it = installed_.find({c.id(), remote_ref}); it != installed_.end()) {
      m = it->second;
      installed_.erase(it);
    }
  }
  if (m) node_.demonitor(m->target, m->local_ref);
}

void RemoteRouter::on_down(Connection& c, Frame& f) {
  pid_item(f, 0, "watcher is not a pid");
  pid_item(f, 1, "target is not a pid");
  const auto ref = ref_item(f, 2);
  auto reason = reason_item(f, 3);
  // Only the connection the monitor was set up over may fire it.
  if (auto m = take_monitor(ref, c.id())) fire_down(ref, std::move(*m), std::move(reason));
}

void RemoteRouter::on_link(Connection& c, Frame& f) {
  const Pid from = pid_item(f, 0, "linker is not a pid");
  const Pid to = pid_item(f, 1, "link target is not a pid");
  if (NodeInternals::add_remote_link(node_, to, from)) return;
  // As Erlang: linking to a process that is gone sends noproc back.
  c.send(FrameKind::envelope, {Term(static_cast<std::int64_t>(Envelope::Kind::exit_signal)), Term(from), Term(to),
                               ref_term(kLinkExit), Term(), ExitReason::noproc().to_term()});
}

void RemoteRouter::on_mailbox_full(Connection& c, Frame& f, bool full) {
  const Pid p = pid_item(f, 0, "the process is not a pid");
  if (p.node != c.peer_index() || p.creation != c.peer_creation()) malformed(f, "the process is not the peer's");
  c.set_peer_mailbox_full(p.serial, full);
}

void RemoteRouter::on_unlink(Connection&, Frame& f) {
  const Pid from = pid_item(f, 0, "unlinker is not a pid");
  const Pid to = pid_item(f, 1, "unlink target is not a pid");
  NodeInternals::remove_link(node_, to, from);
}

}  // namespace noexpp::cluster
