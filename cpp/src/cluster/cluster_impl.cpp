// The cluster module: lifecycle of the network thread, the listener, the
// public Cluster API (each call posted to the network thread where the
// state lives), and the dispatch of connection events to Membership,
// RemoteRouter and the node-request and node-message handlers.
#include "cluster/cluster_impl.hpp"

#include <filesystem>
#include <future>
#include <stdexcept>

#include "cluster/cookie.hpp"
#include "core/internal/log.hpp"
#include "core/internal/node_internals.hpp"
#include "noexpp/cluster/node_id.hpp"

namespace noexpp::cluster {
namespace {

class ClusterCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "noexpp.cluster"; }
  std::string message(int c) const override {
    switch (static_cast<ClusterErrc>(c)) {
      case ClusterErrc::ok: return "ok";
      case ClusterErrc::authentication_failed: return "authentication failed";
      case ClusterErrc::listen_failed: return "cannot listen";
      case ClusterErrc::tls_config_failed: return "bad TLS configuration";
    }
    return "unknown error";
  }
};

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
  if (o.max_pending_handshakes < 1 || o.max_pending_handshakes_per_address < 1)
    bad("max_pending_handshakes and max_pending_handshakes_per_address must be at least 1");
  for (auto& s : o.seeds)
    if (auto id = parse_node_id(s); !id) bad("seed: " + id.error().detail);
}

/// Runs `f` on the network thread and waits (bounded) for its result.
template <class T, class F>
std::optional<T> on_net_thread(asio::io_context& io, F f, std::chrono::seconds bound = std::chrono::seconds(5)) {
  // Shared: the task may run after this function gave up waiting.
  auto result = std::make_shared<std::promise<T>>();
  auto fut = result->get_future();
  asio::post(io, [result, f = std::move(f)]() mutable { result->set_value(f()); });
  if (fut.wait_for(bound) != std::future_status::ready) return std::nullopt;
  return fut.get();
}

}  // namespace

const std::error_category& cluster_category() {
  static ClusterCategory c;
  return c;
}

std::error_code make_error_code(ClusterErrc e) { return {static_cast<int>(e), cluster_category()}; }

ClusterImpl::ClusterImpl(const std::string& host, std::uint16_t port, ClusterOptions options)
    : options_(std::move(options)), cookie_(resolve_cookie(options_)), acceptor_(io_) {
  check_options(options_);
  // Before the listener: a node whose TLS files are wrong never listens, and
  // never falls back to plain TCP.
  if (options_.tls) tls_ = make_tls_context(*options_.tls);
  std::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw ErrorException(Error{Errc::invalid_argument, "listen address '" + host + "' is not an IP address"});
  const asio::ip::tcp::endpoint ep(address, port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw ErrorException(Error{ClusterErrc::listen_failed,
                               "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message()});
  port_ = acceptor_.local_endpoint().port();
}

ClusterImpl::~ClusterImpl() { stop(false); }

void ClusterImpl::attach(Node& node) {
  node_ = &node;
  events_ = std::make_unique<EventBus>(
      [ex = &NodeInternals::executor(node)](std::function<void()> f) { ex->post(std::move(f)); });
  router_ = std::make_unique<RemoteRouter>(
      node, [this](Term request, std::function<bool(CallOutcome)> answer) {
        answer_node_request(std::move(request), std::move(answer));
      });
  membership_ = std::make_unique<Membership>(*this, *router_, *events_);
  NodeInternals::set_router(node, router_.get());
  add_builtin_requests();
}

const std::string& ClusterImpl::local_id() const { return node_->id(); }
std::uint32_t ClusterImpl::local_creation() const { return node_->node_pid().creation; }
std::int64_t ClusterImpl::local_process_count() const { return static_cast<std::int64_t>(node_->process_count()); }

// ---- lifecycle -----------------------------------------------------------------

void ClusterImpl::start() {
  if (started_) return;
  started_ = true;
  if (tls_)
    log().info("node {}: TLS on every connection (certificate {}, CA {})", local_id(), options_.tls->certfile,
               options_.tls->cafile);
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
  asio::post(io_, [this] { accept_loop(); });
  for (auto& s : options_.seeds) connect(s, nullptr);
}

void ClusterImpl::stop(bool graceful) {
  if (!started_ || stopping_.exchange(true)) return;
  auto closed = std::make_shared<std::promise<void>>();
  asio::post(io_, [this, graceful] {
    std::error_code ec;
    acceptor_.close(ec);
    membership_->begin_stop(graceful);
  });
  // Let the goodbyes (and what processes sent while stopping) reach the
  // wire, within a bound, before closing.
  asio::co_spawn(io_, close_when_flushed(std::chrono::steady_clock::now() + std::chrono::seconds(1)),
                 [closed](std::exception_ptr) { closed->set_value(); });
  closed->get_future().wait();
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
  // node_down events of this stop reach subscribers before the node's threads stop.
  events_->flush(std::chrono::seconds(1));
}

asio::awaitable<void> ClusterImpl::close_when_flushed(std::chrono::steady_clock::time_point deadline) {
  asio::steady_timer timer(io_);
  while (membership_->has_unwritten() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(2));
    std::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  membership_->close_all("this node is stopping");
}

void ClusterImpl::abort() {
  if (!started_) return;
  // Synchronous: the node's processes must not be seen stopping (with
  // reason shutdown) by peers before the connections are gone.
  auto done = on_net_thread<bool>(io_, [this] {
    std::error_code ec;
    acceptor_.close(ec);
    membership_->forget_all();
    membership_->close_all("this node was killed");
    return true;
  });
  if (!done) log().warn("node {}: closing connections on abort took over 5 s", local_id());
}

void ClusterImpl::accept_loop() {
  acceptor_.async_accept([this](const std::error_code& ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec && !membership_->closing()) membership_->accepted(std::move(socket));
    accept_loop();
  });
}

// ---- membership ----------------------------------------------------------------

void ClusterImpl::connect(const std::string& id, std::function<void(Result<bool>)> done) {
  if (auto parsed = parse_node_id(id); !parsed) {
    if (done) done(Error{Errc::invalid_argument, parsed.error().detail});
    return;
  }
  if (id == local_id()) {
    if (done) done(true);
    return;
  }
  asio::post(io_, [this, id, done = std::move(done)]() mutable { membership_->connect(id, std::move(done)); });
}

Result<bool> ClusterImpl::connect_wait(const std::string& id, Duration timeout) {
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

std::vector<MemberInfo> ClusterImpl::members() const {
  if (!started_ || stopping_) return {};
  auto* self = const_cast<ClusterImpl*>(this);
  return on_net_thread<std::vector<MemberInfo>>(self->io_, [self] { return self->membership_->members(); })
      .value_or(std::vector<MemberInfo>{});
}

std::vector<std::string> ClusterImpl::up_members() const {
  std::vector<std::string> out;
  for (auto& c : router_->routes())
    if (!c->peer_hidden()) out.push_back(c->peer_id());
  return out;
}

std::optional<Pid> ClusterImpl::node_pid(const std::string& id) const {
  auto c = router_->route_to(intern_node_name(id));
  if (!c) return std::nullopt;
  return Pid{c->peer_index(), c->peer_creation(), 0};
}

std::optional<PeerLink> ClusterImpl::peer_link(const std::string& id) const {
  auto c = router_->route_to(intern_node_name(id));
  if (!c || c->closed()) return std::nullopt;
  return PeerLink{c->id(), c->last_frame()};
}

void ClusterImpl::disconnect(const std::string& id, const std::string& why) {
  auto c = router_->route_to(intern_node_name(id));
  if (!c || !started_ || stopping_) return;
  on_net_thread<bool>(io_, [c, why] {
    c->close({CloseReason::Kind::closed, why});
    return true;
  });
}

void ClusterImpl::set_partitioned(const std::string& peer_id, bool on) {
  asio::post(io_, [this, peer_id, on] { membership_->set_partitioned(peer_id, on); });
}

void ClusterImpl::set_delay(const std::string& peer_id, std::chrono::microseconds delay) {
  asio::post(io_, [this, peer_id, delay] { membership_->set_delay(peer_id, delay); });
}

void ClusterImpl::heal_all() {
  asio::post(io_, [this] { membership_->heal_all(); });
}

// ---- connection events (net thread) ---------------------------------------------

std::string ClusterImpl::admit(const std::shared_ptr<Connection>& c, const std::string& id, std::uint32_t creation) {
  return membership_->admit(c, id, creation);
}

void ClusterImpl::on_established(const std::shared_ptr<Connection>& c) { membership_->on_established(c); }

void ClusterImpl::on_closed(const std::shared_ptr<Connection>& c, const CloseReason& why) {
  membership_->on_closed(c, why);
}

void ClusterImpl::on_frame(Connection& c, Frame& f) {
  if (RemoteRouter::is_process_frame(f.kind)) return router_->on_frame(c, f);
  switch (f.kind) {
    case FrameKind::members: return membership_->on_members(c, f);
    case FrameKind::node_message: {
      if (!f.at(0).is_string()) throw std::invalid_argument("malformed node_message frame: op is not a string");
      if (auto it = message_handlers_.find(f.at(0).as_string()); it != message_handlers_.end())
        it->second(c.peer_id(), f.at(1));
      return;
    }
    default: throw std::invalid_argument(std::string("unexpected ") + to_string(f.kind) + " frame");
  }
}

// ---- requests and messages between nodes -------------------------------------------

void ClusterImpl::answer_node_request(Term request, std::function<bool(CallOutcome)> answer) {
  // Requests to the node itself run on an engine thread, never on the network thread.
  NodeInternals::executor(*node_).post([this, request = std::move(request), answer = std::move(answer)] {
    auto a = requests_.run(request);
    Term value = a.result ? std::move(a.result.value()) : NodeRequests::error_term(a.result.error());
    if (!answer(CallOutcome::reply(std::move(value))) && a.if_undelivered) a.if_undelivered();
  });
}

namespace {

/// A node request's outcome as its answer: the value, or the Error it
/// carries, or what went wrong on the way.
Result<Term> decode_answer(const std::string& id, CallOutcome o) {
  if (o.ok()) {
    if (auto e = NodeRequests::error_of(o.value)) return *e;
    return std::move(o.value);
  }
  switch (o.status) {
    case Errc::call_timeout: return Error{Errc::call_timeout, "node " + id + " did not answer in time"};
    case Errc::no_connection: return Error{Errc::no_connection, "node " + id + " went down during the request"};
    case Errc::message_too_large: return Error{Errc::message_too_large, o.detail};
    default: return Error{Errc::no_connection, "request to node " + id + " failed: " + o.reason.to_string()};
  }
}

}  // namespace

Result<Term> ClusterImpl::request(const std::string& id, Term request, Duration timeout) {
  auto target = node_pid(id);
  if (!target) return Error{Errc::no_connection, "node " + id + " is not connected to " + local_id()};
  return decode_answer(id, node_->call(*target, std::move(request), timeout));
}

void ClusterImpl::request_async(const std::string& id, Term request, Duration timeout,
                                std::function<void(Result<Term>)> done) {
  auto target = node_pid(id);
  if (!target) return done(Error{Errc::no_connection, "node " + id + " is not connected to " + local_id()});
  node_->call_async(*target, std::move(request), timeout,
                    [id, done = std::move(done)](CallOutcome o) { done(decode_answer(id, std::move(o))); });
}

bool ClusterImpl::alive(Pid pid, Duration timeout) {
  auto c = router_->route_to(pid.node);
  if (!c) return false;
  auto r = request(c->peer_id(), Term::tuple({Term("alive"), Term(pid)}), timeout);
  return r && r.value().is_bool() && r.value().as_bool();
}

void ClusterImpl::add_request_handler(std::string op, RequestHandler handler) {
  requests_.add(std::move(op), std::move(handler));
}

void ClusterImpl::add_message_handler(std::string op, MessageHandler handler) {
  message_handlers_[std::move(op)] = std::move(handler);
}

Result<bool> ClusterImpl::send_node_message(const std::string& id, const std::string& op, Term payload) {
  auto c = router_->route_to(intern_node_name(id));
  if (!c) return Error{Errc::no_connection, "node " + id + " is not connected"};
  return c->send(FrameKind::node_message, {Term(op), std::move(payload)});
}

void ClusterImpl::broadcast_node_message(const std::string& op, const Term& payload) {
  for (auto& c : router_->routes())
    if (!c->peer_hidden()) c->send(FrameKind::node_message, {Term(op), payload});
}

void ClusterImpl::add_builtin_requests() {
  requests_.add("members", [this](const Term&) -> RequestAnswer {
    std::vector<Term> out;
    out.emplace_back(local_id());
    for (auto& m : members())
      if (m.status == "up") out.emplace_back(m.id);
    return Term::list(std::move(out));
  });
  requests_.add("process_count", [this](const Term&) -> RequestAnswer { return Term(local_process_count()); });
  requests_.add("alive", [this](const Term& r) -> RequestAnswer {
    const auto& pid = r.at(1);
    if (!pid.is_pid()) return Error{Errc::invalid_argument, "alive needs a pid"};
    return Term(node_->alive(pid.as_pid()));
  });
  requests_.add("whereis", [this](const Term& r) -> RequestAnswer {
    const auto& name = r.at(1);
    if (!name.is_string()) return Error{Errc::invalid_argument, "whereis needs a name"};
    auto p = node_->whereis(name.as_string());
    return p ? Term(*p) : Term();
  });
  requests_.add("partition", [this](const Term& r) -> RequestAnswer {
    if (!r.at(1).is_string() || !r.at(2).is_bool())
      return Error{Errc::invalid_argument, "partition needs a node id and a bool"};
    set_partitioned(r.at(1).as_string(), r.at(2).as_bool());
    return Term();
  });
  requests_.add("delay", [this](const Term& r) -> RequestAnswer {
    const auto& peer = r.at(1);
    const auto& secs = r.at(2);
    if (!peer.is_string() || !(secs.is_float() || secs.is_int()))
      return Error{Errc::invalid_argument, "delay needs a node id and seconds"};
    const double seconds = secs.is_float() ? secs.as_float() : static_cast<double>(secs.as_int());
    if (!(seconds >= 0 && seconds <= 3600)) return Error{Errc::invalid_argument, "delay must be 0 to 3600 seconds"};
    set_delay(peer.as_string(), std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6)));
    return Term();
  });
  requests_.add("heal", [this](const Term&) -> RequestAnswer {
    heal_all();
    return Term();
  });
}

// ---- the public entry points ------------------------------------------------------

Cluster* cluster_of(Node& node) { return dynamic_cast<ClusterImpl*>(node.module("cluster")); }

std::shared_ptr<Node> create_node(NodeOptions node, ClusterOptions cluster, void (*deleter)(Node*)) {
  // Refused here, not at the first handshake: a name the wire would refuse
  // must not make a node that can never join.
  if (auto problem = node_name_problem(node.name); !problem.empty())
    throw ErrorException(Error{Errc::invalid_argument, "node " + problem});
  auto impl = std::make_shared<ClusterImpl>(node.host, node.port, std::move(cluster));
  node.port = impl->port();
  auto n = deleter ? Node::create(std::move(node), deleter) : Node::create(std::move(node));
  impl->attach(*n);
  n->attach(impl);
  return n;
}

}  // namespace noexpp::cluster
