// Membership: the listener, dialling, the handshake's admission rule,
// node_up / node_down, gossip, reconnects and fault injection. Everything
// here runs on the network thread unless its comment in cluster.hpp says
// otherwise. Frames between processes are in remote.cpp.
#include "noexpp/cluster/cluster.hpp"

#include <algorithm>
#include <future>
#include <random>

#include "../core/log.hpp"
#include "noexpp/cluster/cookie.hpp"
#include "noexpp/cluster/node_id.hpp"
#include "noexpp/core/node.hpp"

namespace noexpp::cluster {

struct Cluster::Peer {
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

namespace {

std::string resolve_cookie(const ClusterOptions& o) {
  if (!o.cookie.empty()) {
    auto c = validate_cookie(o.cookie);
    if (!c) throw ErrorException(c.error());
    return c.value();
  }
  auto c = read_or_create_cookie(o.cookie_file.empty() ? default_cookie_path() : std::filesystem::path(o.cookie_file));
  if (!c) throw ErrorException(c.error());
  return c.value();
}

void check_options(const ClusterOptions& o) {
  auto bad = [](std::string what) { throw ErrorException(Error{Errc::invalid_argument, std::move(what)}); };
  if (o.max_frame_bytes < 1024) bad("max_frame_bytes must be at least 1024");
  if (o.heartbeat_interval.count() <= 0) bad("heartbeat_interval must be positive");
  if (!(o.phi_threshold > 0)) bad("phi_threshold must be positive");
  for (auto& s : o.seeds)
    if (auto id = parse_node_id(s); !id) bad("seed: " + id.error().detail);
}

}  // namespace

Cluster::Cluster(Node& node, const std::string& host, std::uint16_t port, ClusterOptions options)
    : node_(node),
      options_(std::move(options)),
      cookie_(resolve_cookie(options_)),
      acceptor_(io_),
      events_(node.executor()) {
  check_options(options_);
  std::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw ErrorException(Error{Errc::invalid_argument, "listen address '" + host + "' is not an IP address"});
  const asio::ip::tcp::endpoint ep(address, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw ErrorException(Error{Errc::listen_failed, "cannot listen on " + host + ":" + std::to_string(port) + ": " +
                                                        ec.message()});
  port_ = acceptor_.local_endpoint().port();
}

Cluster::~Cluster() { stop(false); }

const std::string& Cluster::local_id() const { return node_.id(); }
std::uint32_t Cluster::local_creation() const { return node_.node_pid().creation; }
std::int64_t Cluster::local_process_count() const { return static_cast<std::int64_t>(node_.process_count()); }

Cluster::Peer& Cluster::peer(const std::string& id) {
  auto& slot = peers_[id];
  if (!slot) {
    slot = std::make_unique<Peer>();
    slot->id = id;
  }
  return *slot;
}

void Cluster::start() {
  if (started_) return;
  started_ = true;
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
  asio::post(io_, [this] { accept_loop(); });
  for (auto& s : options_.seeds) connect(s, nullptr);
}

void Cluster::stop(bool graceful) {
  if (!started_ || stopping_.exchange(true)) return;
  auto closed = std::make_shared<std::promise<void>>();
  asio::post(io_, [this, graceful] {
    std::error_code ec;
    acceptor_.close(ec);
    for (auto& [id, p] : peers_)
      if (p->redial) p->redial->cancel();
    if (graceful)
      for (auto& [id, p] : peers_)
        if (p->up) p->up->say_goodbye();
  });
  // Let the goodbyes (and what processes sent while stopping) reach the
  // wire, within a bound, before closing.
  asio::co_spawn(io_, close_when_flushed(std::chrono::steady_clock::now() + std::chrono::seconds(1)),
                 [closed](std::exception_ptr) { closed->set_value(); });
  closed->get_future().wait();
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

asio::awaitable<void> Cluster::close_when_flushed(std::chrono::steady_clock::time_point deadline) {
  asio::steady_timer timer(io_);
  for (;;) {
    bool pending = false;
    for (auto& [id, p] : peers_)
      if (p->up && p->up->queued_bytes() > 0) pending = true;
    if (!pending || std::chrono::steady_clock::now() >= deadline) break;
    timer.expires_after(std::chrono::milliseconds(2));
    std::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  std::vector<std::shared_ptr<Connection>> all(accepted_.begin(), accepted_.end());
  for (auto& [id, p] : peers_)
    for (auto* c : {&p->up, &p->outgoing, &p->incoming})
      if (*c) all.push_back(*c);
  for (auto& c : all) c->close({CloseReason::Kind::local, "this node is stopping"});
}

void Cluster::abort_connections() {
  if (!started_) return;
  // Synchronous: the node's processes must not be seen stopping (with
  // reason shutdown) by peers before the connections are gone.
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  asio::post(io_, [this, done] {
    aborted_ = true;
    std::error_code ec;
    acceptor_.close(ec);
    std::vector<std::shared_ptr<Connection>> all(accepted_.begin(), accepted_.end());
    for (auto& [id, p] : peers_) {
      p->known = false;
      if (p->redial) p->redial->cancel();
      for (auto* c : {&p->up, &p->outgoing, &p->incoming})
        if (*c) all.push_back(*c);
    }
    for (auto& c : all) c->close({CloseReason::Kind::local, "this node was killed"});
    done->set_value();
  });
  if (fut.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
    log().warn("node {}: closing connections on abort took over 5 s", local_id());
}

void Cluster::accept_loop() {
  acceptor_.async_accept([this](const std::error_code& ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec && !aborted_) {
      auto c = std::make_shared<Connection>(*this, std::move(socket), Connection::Side::acceptor, "");
      accepted_.push_back(c);
      c->start();
    }
    accept_loop();
  });
}

// ---- connecting -----------------------------------------------------------

void Cluster::connect(const std::string& id, std::function<void(Result<bool>)> done) {
  if (auto parsed = parse_node_id(id); !parsed) {
    if (done) done(Error{Errc::invalid_argument, parsed.error().detail});
    return;
  }
  if (id == local_id()) {
    if (done) done(true);
    return;
  }
  asio::post(io_, [this, id, done = std::move(done)]() mutable {
    if (stopping_ || aborted_) {
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
  });
}

Result<bool> Cluster::connect_wait(const std::string& id, Duration timeout) {
  auto result = std::make_shared<std::promise<Result<bool>>>();
  auto once = std::make_shared<std::atomic<bool>>(false);
  auto fut = result->get_future();
  connect(id, [result, once](Result<bool> r) {
    if (!once->exchange(true)) result->set_value(std::move(r));
  });
  if (fut.wait_for(timeout) != std::future_status::ready)
    return Error{Errc::no_connection, "connecting to " + id + " timed out"};
  return fut.get();
}

void Cluster::dial(Peer& p) {
  if (p.up || p.dialing || p.incoming || stopping_ || aborted_) return;
  if (p.partitioned) {
    finish_waiters(p, Error{Errc::no_connection, "cannot reach " + p.id + ": cut off by fault injection"});
    schedule_redial(p);
    return;
  }
  auto id = parse_node_id(p.id);
  std::error_code ec;
  auto address = asio::ip::make_address(id.value().host, ec);
  asio::ip::tcp::endpoint ep;
  if (!ec) {
    ep = {address, id.value().port};
  } else {
    asio::ip::tcp::resolver resolver(io_);
    auto found = resolver.resolve(id.value().host, std::to_string(id.value().port), ec);
    if (ec || found.empty()) {
      finish_waiters(p, Error{Errc::no_connection, "cannot resolve host of " + p.id + ": " + ec.message()});
      schedule_redial(p);
      return;
    }
    ep = *found.begin();
  }
  p.dialing = true;
  auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
  auto timer = std::make_shared<asio::steady_timer>(io_, options_.handshake_timeout);
  timer->async_wait([socket](const std::error_code& e) {
    if (!e) {
      std::error_code ignored;
      socket->close(ignored);
    }
  });
  socket->async_connect(ep, [this, &p, socket, timer](const std::error_code& e) {
    timer->cancel();
    if (stopping_ || aborted_) {
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
    p.outgoing = std::make_shared<Connection>(*this, std::move(*socket), Connection::Side::initiator, p.id);
    p.outgoing->start();
  });
}

void Cluster::schedule_redial(Peer& p) {
  if (!p.known || p.up || stopping_ || aborted_) return;
  p.backoff = p.backoff.count() == 0 ? options_.reconnect_initial
                                     : std::min(options_.reconnect_max, p.backoff * 2);
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  const auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(p.backoff.count() * jitter(rng)));
  if (!p.redial) p.redial = std::make_unique<asio::steady_timer>(io_);
  p.redial->expires_after(delay);
  p.redial->async_wait([this, &p](const std::error_code& e) {
    if (!e) dial(p);
  });
}

void Cluster::finish_waiters(Peer& p, const Result<bool>& r) {
  auto waiters = std::move(p.waiters);
  p.waiters.clear();
  for (auto& w : waiters) w(r);
}

// ---- the handshake's outcome -------------------------------------------------

std::string Cluster::admit(const std::shared_ptr<Connection>& c, const std::string& id, std::uint32_t creation) {
  if (stopping_ || aborted_) return "stopping";
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

void Cluster::on_established(const std::shared_ptr<Connection>& c) {
  std::erase(accepted_, c);
  Peer& p = peer(c->peer_id());
  if (p.incoming == c) p.incoming.reset();
  if (p.outgoing == c) {
    p.outgoing.reset();
    p.dialing = false;
  }
  if (stopping_ || aborted_) {
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
  {
    std::lock_guard lk(routes_mu_);
    routes_[c->peer_index()] = c;
  }
  if (!c->peer_hidden()) {
    log().info("node {}: node up {} (incarnation {})", local_id(), p.id, p.creation);
    events_.emit("node_up", Term::map({{Term("node"), Term(p.id)},
                                       {Term("creation"), Term(static_cast<std::int64_t>(p.creation))}}));
    gossip_to(*c);
  }
  finish_waiters(p, true);
}

void Cluster::on_closed(const std::shared_ptr<Connection>& c, const CloseReason& why) {
  std::erase(accepted_, c);
  auto it = peers_.find(c->peer_id());
  const bool quiet = why.kind == CloseReason::Kind::duplicate || why.kind == CloseReason::Kind::local;
  if (it == peers_.end() || (it->second->up != c && it->second->outgoing != c && it->second->incoming != c)) {
    // A handshake that never got as far as naming a known peer.
    if (!quiet) log().warn("node {}: connection from {} closed: {}", local_id(), c->peer_id().empty() ? "?" : c->peer_id(), why.text);
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
      finish_waiters(p, Error{why.kind == CloseReason::Kind::authentication ? Errc::authentication_failed : Errc::no_connection,
                              why.text});
  }
  if (p.outgoing == c) {
    p.outgoing.reset();
    p.dialing = false;
    if (why.kind != CloseReason::Kind::duplicate) {
      if (!quiet && why.kind != CloseReason::Kind::authentication)
        log().debug("node {}: connecting to {} failed: {}", local_id(), p.id, why.text);
      finish_waiters(p, Error{why.kind == CloseReason::Kind::authentication ? Errc::authentication_failed : Errc::no_connection,
                              why.text});
      schedule_redial(p);
    }
    return;
  }
  if (p.up != c) return;
  p.up.reset();
  {
    std::lock_guard lk(routes_mu_);
    routes_.erase(c->peer_index());
  }
  node_down(p, c, why);
  if (why.kind == CloseReason::Kind::goodbye) p.known = false;  // it left: no redial
  schedule_redial(p);
}

void Cluster::node_down(Peer& p, const std::shared_ptr<Connection>& c, const CloseReason& why) {
  fail_in_flight(*c);
  node_.peer_down(c->peer_index(), c->peer_creation());
  if (c->peer_hidden() || stopping_) return;
  const bool left = why.kind == CloseReason::Kind::goodbye;
  log().info("node {}: node down {}: {}", local_id(), p.id, why.text);
  events_.emit("node_down", Term::map({{Term("node"), Term(p.id)},
                                       {Term("creation"), Term(static_cast<std::int64_t>(c->peer_creation()))},
                                       {Term("reason"), Term(left ? "shutdown" : "noconnection")},
                                       {Term("detail"), Term(why.text)}}));
}

void Cluster::gossip_to(Connection& c) {
  if (options_.hidden) return;
  std::vector<Term> others;
  for (auto& [id, p] : peers_)
    if (p->up && p->up.get() != &c && !p->up->peer_hidden()) {
      others.emplace_back(id);
      p->up->send(FrameKind::members, {Term::list({Term(c.peer_id())})});
    }
  if (!others.empty()) c.send(FrameKind::members, {Term::list(std::move(others))});
}

void Cluster::on_members(Connection& c, Frame& f) {
  if (options_.hidden || !f.at(0).is_list()) return;
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

std::vector<MemberInfo> Cluster::members() const {
  auto self = const_cast<Cluster*>(this);
  // Shared: the lambda may run after this function gave up waiting.
  auto result = std::make_shared<std::promise<std::vector<MemberInfo>>>();
  auto fut = result->get_future();
  if (!started_ || stopping_) return {};
  asio::post(self->io_, [self, result] {
    std::vector<MemberInfo> out;
    for (auto& [id, p] : self->peers_) {
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
    result->set_value(std::move(out));
  });
  if (fut.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return {};
  return fut.get();
}

std::optional<Pid> Cluster::node_pid(const std::string& id) const {
  auto c = route_to(intern_node_name(id));
  if (!c) return std::nullopt;
  return Pid{c->peer_index(), c->peer_creation(), 0};
}

std::shared_ptr<Connection> Cluster::route_to(std::uint32_t node_index) const {
  std::lock_guard lk(routes_mu_);
  auto it = routes_.find(node_index);
  return it == routes_.end() ? nullptr : it->second;
}

void Cluster::set_partitioned(const std::string& peer_id, bool on) {
  asio::post(io_, [this, peer_id, on] {
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
  });
}

void Cluster::set_delay(const std::string& peer_id, std::chrono::microseconds delay) {
  asio::post(io_, [this, peer_id, delay] {
    Peer& p = peer(peer_id);
    p.delay = delay;
    if (p.up) p.up->set_delay(delay);
  });
}

void Cluster::heal_all() {
  asio::post(io_, [this] {
    std::vector<std::string> ids;
    for (auto& [id, p] : peers_) {
      if (p->partitioned) ids.push_back(id);
      p->delay = std::chrono::microseconds(0);
      if (p->up) p->up->set_delay(p->delay);
    }
    for (auto& id : ids) set_partitioned(id, false);
  });
}

}  // namespace noexpp::cluster
