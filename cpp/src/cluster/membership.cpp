// Membership: dialling, the handshake's admission rule, node_up /
// node_down, gossip, reconnects and fault injection. Everything here runs on
// the network thread.
#include "cluster/membership.hpp"

#include <algorithm>
#include <random>

#include "noexpp/cluster/node_id.hpp"
#include "core/internal/log.hpp"

namespace noexpp::cluster {
namespace {

/// What connect() callers hear when a handshake with the peer ends.
Error connect_failure(const CloseReason& why) {
  if (why.kind == CloseReason::Kind::authentication) return Error{ClusterErrc::authentication_failed, why.text};
  return Error{Errc::no_connection, why.text};
}

}  // namespace

struct Membership::Peer {
  std::string id;
  bool known = false;        ///< a member: redialled while down
  bool partitioned = false;  ///< fault injection: traffic dropped
  std::chrono::microseconds delay{0};  ///< fault injection: frames we send are held this long
  bool dialing = false;      ///< a TCP connect or outgoing handshake is under way
  std::shared_ptr<Connection> outgoing;   ///< our handshake to it
  std::shared_ptr<Connection> incoming;   ///< its handshake to us
  std::shared_ptr<Connection> up;         ///< the established connection
  std::uint32_t creation = 0;             ///< of the last incarnation seen
  std::chrono::milliseconds backoff{0};
  std::unique_ptr<asio::steady_timer> redial;
  std::vector<std::function<void(Result<bool>)>> waiters;  ///< connect() callers
};

Membership::Membership(ConnectionHost& host, RemoteRouter& router, EventBus& events)
    : host_(host), router_(router), events_(events) {}

Membership::~Membership() = default;

Membership::Peer& Membership::peer(const std::string& id) {
  auto& slot = peers_[id];
  if (!slot) {
    slot = std::make_unique<Peer>();
    slot->id = id;
  }
  return *slot;
}

void Membership::accepted(asio::ip::tcp::socket socket) {
  auto c = std::make_shared<Connection>(host_, std::move(socket), Connection::Side::acceptor, "");
  const auto& o = host_.options();
  const auto same_address = static_cast<std::size_t>(std::count_if(
      accepted_.begin(), accepted_.end(), [&](auto& a) { return a->remote_address() == c->remote_address(); }));
  if (accepted_.size() >= o.max_pending_handshakes || same_address >= o.max_pending_handshakes_per_address) {
    // Closed before it is read from: unauthenticated, it may hold nothing.
    warn_unauthenticated(*c, "turned away: too many handshakes under way (" + std::to_string(accepted_.size()) +
                                 " in all, " + std::to_string(same_address) + " from this address)");
    c->close({CloseReason::Kind::local, "too many handshakes under way"});
    return;
  }
  accepted_.push_back(c);
  c->start();
}

void Membership::warn_unauthenticated(const Connection& c, const std::string& what) {
  const std::string& from = c.remote_address().empty() ? std::string("?") : c.remote_address();
  std::uint64_t suppressed = 0;
  if (!unauthenticated_log_.allow(from, suppressed)) return;
  log().warn("node {}: connection from {}{}: {}{}", local_id(), from,
             c.peer_id().empty() ? "" : " (said it is " + c.peer_id() + ")", what,
             suppressed ? " (and " + std::to_string(suppressed) + " more from this address since the last line)" : "");
}

// ---- connecting -----------------------------------------------------------

void Membership::connect(const std::string& id, std::function<void(Result<bool>)> done) {
  if (closing()) {
    if (done) done(Error{Errc::node_stopped, "node " + local_id() + " is stopping"});
    return;
  }
  Peer& p = peer(id);
  p.known = true;
  if (p.up) {
    if (done) done(true);
    return;
  }
  if (done) p.waiters.push_back(std::move(done));
  if (!p.dialing && !p.incoming) {
    p.backoff = std::chrono::milliseconds(0);
    if (p.redial) p.redial->cancel();
    dial(p);
  }
}

void Membership::dial(Peer& p) {
  if (p.up || p.dialing || p.incoming || closing()) return;
  if (p.partitioned) {
    finish_waiters(p, Error{Errc::no_connection, "cannot reach " + p.id + ": cut off by fault injection"});
    schedule_redial(p);
    return;
  }
  auto id = parse_node_id(p.id);
  p.dialing = true;
  std::error_code ec;
  auto address = asio::ip::make_address(id.value().host, ec);
  if (!ec) return connect(p, {asio::ip::tcp::endpoint{address, id.value().port}});
  // A hostname is resolved on asio's resolver thread, never on this one: a
  // slow DNS server would stall every peer's frames and heartbeats here. It
  // is resolved again at every dial (an address may change on restart).
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(host_.io());
  auto timer = std::make_shared<asio::steady_timer>(host_.io(), host_.options().handshake_timeout);
  timer->async_wait([resolver](const std::error_code& e) {
    if (!e) resolver->cancel();
  });
  resolver->async_resolve(
      id.value().host, std::to_string(id.value().port),
      [this, &p, resolver, timer](const std::error_code& e, const asio::ip::tcp::resolver::results_type& found) {
        timer->cancel();
        if (closing()) {
          p.dialing = false;
          return;
        }
        if (e || found.empty()) {
          p.dialing = false;
          const std::string why = e == asio::error::operation_aborted ? "timed out" : e ? e.message() : "no address";
          log().debug("node {}: cannot resolve the host of {}: {}", local_id(), p.id, why);
          finish_waiters(p, Error{Errc::no_connection, "cannot resolve host of " + p.id + ": " + why});
          schedule_redial(p);
          return;
        }
        connect(p, {found.begin(), found.end()});  // each address in turn
      });
}

void Membership::connect(Peer& p, std::vector<asio::ip::tcp::endpoint> endpoints) {
  auto socket = std::make_shared<asio::ip::tcp::socket>(host_.io());
  auto timer = std::make_shared<asio::steady_timer>(host_.io(), host_.options().handshake_timeout);
  timer->async_wait([socket](const std::error_code& e) {
    if (!e) {
      std::error_code ignored;
      socket->close(ignored);
    }
  });
  asio::async_connect(*socket, endpoints, [this, &p, socket, timer](const std::error_code& e, const asio::ip::tcp::endpoint&) {
    timer->cancel();
    if (closing()) {
      p.dialing = false;
      return;
    }
    if (e || p.partitioned) {
      p.dialing = false;
      const std::string why = e == asio::error::operation_aborted ? "timed out" : e ? e.message() : "cut off by fault injection";
      log().debug("node {}: cannot connect to {}: {}", local_id(), p.id, why);
      finish_waiters(p, Error{Errc::no_connection, "cannot connect to " + p.id + ": " + why});
      schedule_redial(p);
      return;
    }
    p.outgoing = std::make_shared<Connection>(host_, std::move(*socket), Connection::Side::initiator, p.id);
    p.outgoing->start();
  });
}

void Membership::schedule_redial(Peer& p) {
  if (!p.known || p.up || closing()) return;
  p.backoff = p.backoff.count() == 0 ? host_.options().reconnect_initial
                                     : std::min(host_.options().reconnect_max, p.backoff * 2);
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  const auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(p.backoff.count() * jitter(rng)));
  if (!p.redial) p.redial = std::make_unique<asio::steady_timer>(host_.io());
  p.redial->expires_after(delay);
  p.redial->async_wait([this, &p](const std::error_code& e) {
    if (!e) dial(p);
  });
}

void Membership::finish_waiters(Peer& p, const Result<bool>& r) {
  auto waiters = std::move(p.waiters);
  p.waiters.clear();
  for (auto& w : waiters) w(r);
}

// ---- the handshake's outcome -------------------------------------------------

std::string Membership::admit(const std::shared_ptr<Connection>& c, const std::string& id, std::uint32_t creation) {
  if (closing()) return "stopping";
  if (id == local_id()) return "identity";
  Peer& p = peer(id);
  if (p.partitioned) return "partitioned";
  // A new incarnation (the peer restarted under the same name) replaces the
  // old connection only once its cookie proof passed (on_established): an
  // unauthenticated hello must never disconnect a member.
  if (p.up && p.up->peer_creation() == creation) return "duplicate";
  if (p.incoming && p.incoming != c) return "duplicate";
  // Both sides dialled at once: each keeps the connection dialled by the
  // node with the smaller id, so exactly one survives on both.
  if (p.dialing && local_id() < id) return "duplicate";
  p.incoming = c;
  return "";
}

void Membership::on_established(const std::shared_ptr<Connection>& c) {
  std::erase(accepted_, c);
  Peer& p = peer(c->peer_id());
  if (p.incoming == c) p.incoming.reset();
  if (p.outgoing == c) {
    p.outgoing.reset();
    p.dialing = false;
  }
  if (closing()) {
    c->close({CloseReason::Kind::local, "this node is stopping"});
    return;
  }
  if (p.up && p.up != c) {
    if (p.up->peer_creation() == c->peer_creation()) {
      c->close({CloseReason::Kind::duplicate, "already connected to " + p.id});
      return;
    }
    p.up->close({CloseReason::Kind::closed, "replaced by a new incarnation of " + p.id});
  }
  if (p.partitioned) {
    c->close({CloseReason::Kind::closed, "cut off by fault injection"});
    return;
  }
  p.up = c;
  p.creation = c->peer_creation();
  c->set_delay(p.delay);
  p.backoff = std::chrono::milliseconds(0);
  if (p.redial) p.redial->cancel();
  if (!c->peer_hidden()) p.known = true;
  router_.route_up(c);
  if (!c->peer_hidden()) {
    log().info("node {}: node up {} (incarnation {})", local_id(), p.id, p.creation);
    events_.emit("node_up", Term::map({{Term("node"), Term(p.id)},
                                       {Term("creation"), Term(static_cast<std::int64_t>(p.creation))}}));
    gossip_to(*c);
  }
  finish_waiters(p, true);
}

void Membership::on_closed(const std::shared_ptr<Connection>& c, const CloseReason& why) {
  std::erase(accepted_, c);
  auto it = peers_.find(c->peer_id());
  const bool quiet = why.kind == CloseReason::Kind::duplicate || why.kind == CloseReason::Kind::local;
  // A broken protocol is always told, whoever the peer (hidden ones too);
  // before authentication, at a bounded rate per address.
  if (why.kind == CloseReason::Kind::protocol && c->established())
    log().warn("node {}: closed the connection with {}: {}", local_id(), c->peer_id(), why.text);
  else if (why.kind == CloseReason::Kind::protocol)
    warn_unauthenticated(*c, "closed: " + why.text);
  if (it == peers_.end() || (it->second->up != c && it->second->outgoing != c && it->second->incoming != c)) {
    // A handshake that never got as far as naming a known peer.
    if (!quiet && why.kind != CloseReason::Kind::protocol) warn_unauthenticated(*c, "closed: " + why.text);
    return;
  }
  Peer& p = *it->second;
  if (why.kind == CloseReason::Kind::authentication) {
    log().warn("node {}: handshake with {} failed: {}", local_id(), p.id, why.text);
    p.known = false;  // retrying cannot help until someone fixes the cookie
  }
  if (p.incoming == c) {
    p.incoming.reset();
    // connect() callers waiting on this handshake (theirs was turned away as a duplicate).
    if (!p.up && !p.dialing && !p.waiters.empty())
      finish_waiters(p, connect_failure(why));
  }
  if (p.outgoing == c) {
    p.outgoing.reset();
    p.dialing = false;
    if (why.kind != CloseReason::Kind::duplicate) {
      if (!quiet && why.kind != CloseReason::Kind::authentication)
        log().debug("node {}: connecting to {} failed: {}", local_id(), p.id, why.text);
      finish_waiters(p, connect_failure(why));
    }
    // Turned away as a duplicate too: the connection that won may still
    // fail its handshake, so try again (a no-op once the peer is up).
    schedule_redial(p);
    return;
  }
  if (p.up != c) return;
  p.up.reset();
  node_down(p, c, why);
  if (why.kind == CloseReason::Kind::goodbye) p.known = false;  // it left: no redial
  schedule_redial(p);
}

void Membership::node_down(Peer& p, const std::shared_ptr<Connection>& c, const CloseReason& why) {
  router_.route_down(c);
  if (c->peer_hidden() || closing()) return;
  const bool left = why.kind == CloseReason::Kind::goodbye;
  log().info("node {}: node down {}: {}", local_id(), p.id, why.text);
  events_.emit("node_down", Term::map({{Term("node"), Term(p.id)},
                                       {Term("creation"), Term(static_cast<std::int64_t>(c->peer_creation()))},
                                       {Term("reason"), Term(left ? "shutdown" : "noconnection")},
                                       {Term("detail"), Term(why.text)}}));
}

void Membership::gossip_to(Connection& c) {
  if (host_.options().hidden) return;
  std::vector<Term> others;
  for (auto& [id, p] : peers_)
    if (p->up && p->up.get() != &c && !p->up->peer_hidden()) {
      others.emplace_back(id);
      p->up->send(FrameKind::members, {Term::list({Term(c.peer_id())})});
    }
  if (!others.empty()) c.send(FrameKind::members, {Term::list(std::move(others))});
}

void Membership::on_members(Connection& c, const Frame& f) {
  if (host_.options().hidden || !f.at(0).is_list()) return;
  for (auto& t : f.at(0).as_list().items) {
    if (!t.is_string() || t.as_string() == local_id() || !parse_node_id(t.as_string())) continue;
    Peer& p = peer(t.as_string());
    if (!p.known) {
      p.known = true;
      p.backoff = std::chrono::milliseconds(0);
    }
    dial(p);
  }
}

// ---- queries and fault injection ---------------------------------------------

std::vector<MemberInfo> Membership::members() const {
  std::vector<MemberInfo> out;
  for (auto& [id, p] : peers_) {
    if (!p->known && !p->up) continue;
    if (p->up && p->up->peer_hidden()) continue;
    MemberInfo m{id, p->up ? "up" : (p->dialing || p->incoming) ? "connecting" : "down", p->creation};
    if (p->up) {
      auto s = p->up->stats();
      m.process_count = s.peer_process_count;
      m.since_heartbeat = s.since_heartbeat;
      m.rtt = s.rtt;
    }
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.id < b.id; });
  return out;
}

void Membership::set_partitioned(const std::string& peer_id, bool on) {
  {
    Peer& p = peer(peer_id);
    p.partitioned = on;
    if (p.up) p.up->set_dropped(on);
    if (on) {
      for (auto* c : {&p.outgoing, &p.incoming})
        if (*c) (*c)->close({CloseReason::Kind::closed, "cut off by fault injection"});
    } else if (!p.up && p.known) {
      p.backoff = std::chrono::milliseconds(0);
      if (p.redial) p.redial->cancel();
      dial(p);
    }
  }
}

void Membership::set_delay(const std::string& peer_id, std::chrono::microseconds delay) {
  Peer& p = peer(peer_id);
  p.delay = delay;
  if (p.up) p.up->set_delay(delay);
}

void Membership::heal_all() {
  {
    std::vector<std::string> ids;
    for (auto& [id, p] : peers_) {
      if (p->partitioned) ids.push_back(id);
      p->delay = std::chrono::microseconds(0);
      if (p->up) p->up->set_delay(p->delay);
    }
    for (auto& id : ids) set_partitioned(id, false);
  }
}

// ---- stopping ----------------------------------------------------------------

void Membership::begin_stop(bool graceful) {
  set_closing();
  for (auto& [id, p] : peers_)
    if (p->redial) p->redial->cancel();
  if (graceful)
    for (auto& [id, p] : peers_)
      if (p->up) p->up->say_goodbye();
}

bool Membership::has_unwritten() const {
  for (auto& [id, p] : peers_)
    if (p->up && p->up->queued_bytes() > 0) return true;
  return false;
}

void Membership::close_all(const std::string& text) {
  std::vector<std::shared_ptr<Connection>> all(accepted_.begin(), accepted_.end());
  for (auto& [id, p] : peers_)
    for (auto* c : {&p->up, &p->outgoing, &p->incoming})
      if (*c) all.push_back(*c);
  for (auto& c : all) c->close({CloseReason::Kind::local, text});
}

void Membership::forget_all() {
  set_closing();
  for (auto& [id, p] : peers_) {
    p->known = false;
    if (p->redial) p->redial->cancel();
  }
}

}  // namespace noexpp::cluster
