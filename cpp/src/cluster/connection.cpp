#include "cluster/connection.hpp"

#include <sys/socket.h>

#include <cstring>

#include "core/internal/log.hpp"
#include "cluster/handshake_crypto.hpp"
#include "cluster/handshake_messages.hpp"
#include "noexpp/cluster/node_id.hpp"

namespace noexpp::cluster {
namespace {

/// A handshake or protocol failure: ends the connection with `why`.
struct ConnectionEnded {
  CloseReason why;
};

[[noreturn]] void fail(CloseReason::Kind kind, std::string text) { throw ConnectionEnded{{kind, std::move(text)}}; }

/// How a failed handshake ends the connection (the kind membership and
/// connect() callers act on), by what failed.
CloseReason::Kind close_kind(const Error& e) {
  if (e.code.category() != handshake_category()) return CloseReason::Kind::protocol;
  switch (static_cast<HandshakeErrc>(e.code.value())) {
    case HandshakeErrc::version_mismatch:
    case HandshakeErrc::wrong_cookie:
    case HandshakeErrc::peer_rejected_credentials:
      return CloseReason::Kind::authentication;
    case HandshakeErrc::own_node_id:
    case HandshakeErrc::wrong_node:
    case HandshakeErrc::peer_rejected:
      return CloseReason::Kind::closed;
    case HandshakeErrc::turned_away:
    case HandshakeErrc::peer_rejected_duplicate:
      return CloseReason::Kind::duplicate;
    case HandshakeErrc::ok:
    case HandshakeErrc::malformed_frame:
    case HandshakeErrc::unexpected_frame:
    case HandshakeErrc::bad_node_id:
      break;
  }
  return CloseReason::Kind::protocol;
}

CloseReason close_reason(const HandshakeFailure& f) { return {close_kind(f.error), f.error.detail}; }

std::int64_t micros_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

namespace {
std::atomic<std::uint64_t> next_connection_id{1};
}

Connection::Connection(ConnectionHost& host, asio::ip::tcp::socket socket, Side side, std::string expected_peer)
    : host_(host),
      id_(next_connection_id.fetch_add(1, std::memory_order_relaxed)),
      socket_(std::move(socket)),
      side_(side),
      peer_id_(std::move(expected_peer)),
      handshake_timer_(host.io()),
      heartbeat_timer_(host.io()),
      delay_timer_(host.io()),
      detector_(PhiOptions{host.options().heartbeat_interval, host.options().phi_threshold,
                           host.options().acceptable_pause, host.options().min_std_dev, 200}) {
  if (!peer_id_.empty()) peer_index_ = intern_node_name(peer_id_);
  if (auto* context = host.tls_context()) tls_ = std::make_unique<TlsStream>(socket_, *context);
  std::error_code ec;
  if (auto ep = socket_.remote_endpoint(ec); !ec) remote_address_ = ep.address().to_string();
}

Connection::~Connection() = default;

void Connection::start() {
  std::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  handshake_timer_.expires_after(host_.options().handshake_timeout);
  handshake_timer_.async_wait([self = shared_from_this()](const std::error_code& e) {
    if (!e && !self->established()) self->close({CloseReason::Kind::closed, "handshake timed out"});
  });
  asio::co_spawn(host_.io(), run(), asio::detached);
}

asio::awaitable<void> Connection::run() {
  auto self = shared_from_this();
  CloseReason why{CloseReason::Kind::closed, "connection closed by peer"};
  try {
    if (tls_) co_await tls_handshake();  // the cookie handshake then runs inside TLS, unchanged
    if (side_ == Side::initiator)
      co_await handshake_as_initiator();
    else
      co_await handshake_as_acceptor();
    handshake_timer_.cancel();
    established_.store(true, std::memory_order_release);
    if (!tls_) {
      // From now on senders may write to the socket directly. Never under
      // TLS: the stream (an SSL object) is the network thread's alone.
      std::lock_guard lk(mu_);
      fd_ = socket_.native_handle();
    }
    // The handshake is the first sign of life: a peer silent from here on
    // is suspected like one that stopped later.
    detector_.heartbeat(Clock::now());
    last_frame_at_ = Clock::now();
    last_frame_ticks_.store(last_frame_at_.time_since_epoch().count(), std::memory_order_release);
    {
      std::lock_guard lk(mu_);
      last_heartbeat_ = Clock::now();
    }
    host_.on_established(self);
    if (closing_) co_return;
    asio::co_spawn(host_.io(), heartbeats(), asio::detached);
    const auto max = host_.options().max_frame_bytes;
    for (;;) {
      Frame f = co_await read_frame(max);
      if (dropped()) continue;  // a cut network: nothing arrives
      last_frame_at_ = Clock::now();
      last_frame_ticks_.store(last_frame_at_.time_since_epoch().count(), std::memory_order_release);
      if (f.kind == FrameKind::heartbeat || f.kind == FrameKind::heartbeat_ack) {
        on_heartbeat(f);
      } else if (f.kind == FrameKind::goodbye) {
        fail(CloseReason::Kind::goodbye, "the peer left (shutdown)");
      } else if (f.kind <= FrameKind::reject) {
        fail(CloseReason::Kind::protocol, std::string("protocol error: ") + to_string(f.kind) + " frame after the handshake");
      } else {
        host_.on_frame(*this, f);
      }
    }
  } catch (const ConnectionEnded& e) {
    why = e.why;
  } catch (const std::system_error& e) {
    const auto& ec = e.code();
    // A peer that closes a TLS connection without a close_notify (a killed
    // process, or one that closes as this node does) truncates the stream:
    // an end like EOF. Frames carry their length, so nothing cut short is
    // ever taken for whole.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    } else if (tls_ && is_tls_error(ec) && !established()) {
      // TLS 1.3: a client learns only at its first read that the server
      // refused its certificate (the alert comes after its own handshake).
      why = {CloseReason::Kind::authentication, "TLS handshake failed: " + tls_failure_text(ec, *tls_)};
    } else {
      why.text = "connection lost: " +
                 (tls_ && is_tls_error(ec) ? "TLS: " + tls_failure_text(ec, *tls_) : ec.message());
    }
  } catch (const std::exception& e) {
    why = {CloseReason::Kind::protocol, std::string("protocol error: ") + e.what()};
  }
  read_ended_ = true;
  // Under fault injection the peer's own close must not be seen either:
  // the heartbeat detector finds the silence, as on a cut network.
  if (established() && dropped() && !closing_) co_return;
  close(why);
}

asio::awaitable<Frame> Connection::read_frame(std::size_t max_frame) {
  // Frames are cut out of a buffer filled by large reads: under load one
  // system call brings in many frames.
  co_await fill(kFrameHeaderBytes);
  const auto* header = reinterpret_cast<const unsigned char*>(rbuf_.data() + rstart_);
  if (max_frame == kHandshakeMaxFrame && !tls_ && starts_tls_record(header)) {
    // A peer with TLS on, and this node has it off. Said in TLS to a TLS
    // client, so that its connect() tells why instead of seeing an EOF.
    if (side_ == Side::acceptor) write_plain_best_effort(protocol_version_alert());
    fail(CloseReason::Kind::authentication,
         (side_ == Side::acceptor ? std::string("the peer began a TLS handshake") : peer_id_ + " answered in TLS") +
             ", and TLS is off at this node (ClusterOptions::tls)");
  }
  const std::size_t n = frame_length(header);
  if (n > max_frame)
    fail(CloseReason::Kind::protocol, "frame of " + std::to_string(n) + " bytes is over the maximum of " +
                                        std::to_string(max_frame) + " bytes");
  co_await fill(kFrameHeaderBytes + n);
  auto f = decode_frame(std::span<const char>(rbuf_.data() + rstart_ + kFrameHeaderBytes, n));
  rstart_ += kFrameHeaderBytes + n;
  if (!f) fail(CloseReason::Kind::protocol, f.error().detail);
  co_return std::move(f.value());
}

asio::awaitable<void> Connection::fill(std::size_t need) {
  if (rend_ - rstart_ >= need) co_return;
  if (rstart_ > 0) {  // keep the unread bytes at the front
    std::memmove(rbuf_.data(), rbuf_.data() + rstart_, rend_ - rstart_);
    rend_ -= rstart_;
    rstart_ = 0;
  }
  // Small until the peer is authenticated: a handshake frame is at most
  // 4 KiB, and anyone can open a connection.
  const std::size_t chunk = established() ? kReadChunk : kFrameHeaderBytes + kHandshakeMaxFrame;
  if (rbuf_.size() < std::max(need, chunk)) rbuf_.resize(std::max(need, chunk));
  while (rend_ < need) {
    const auto into = asio::buffer(rbuf_.data() + rend_, rbuf_.size() - rend_);
    // (No co_await inside ?: — GCC mishandles coroutine suspension there.)
    if (tls_)
      rend_ += co_await tls_->async_read_some(into, asio::use_awaitable);
    else
      rend_ += co_await socket_.async_read_some(into, asio::use_awaitable);
  }
}

asio::awaitable<void> Connection::tls_handshake() {
  std::error_code ec;
  const auto role = side_ == Side::initiator ? asio::ssl::stream_base::client : asio::ssl::stream_base::server;
  co_await tls_->async_handshake(role, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_return;
  if (!is_tls_error(ec))  // the socket failed, not TLS: EOF, a reset, the handshake timer
    fail(CloseReason::Kind::closed, "TLS handshake failed: " +
                                        std::string(ec == asio::ssl::error::stream_truncated
                                                        ? "the peer closed the connection"
                                                        : ec.message()));
  if (side_ == Side::acceptor && peer_sent_plaintext(ec)) {
    // A node with TLS off sent its hello. The answer in its own protocol,
    // a reject, makes its connect() say why instead of seeing an EOF.
    auto bytes = encode_frame(FrameKind::reject,
                              {Term("tls"), Term(host_.local_id() + " requires TLS, and this connection is plain TCP "
                                                                    "(TLS is off at the dialling node)")},
                              kHandshakeMaxFrame);
    if (bytes) write_plain_best_effort(bytes.value());
  }
  fail(CloseReason::Kind::authentication, "TLS handshake failed: " + tls_failure_text(ec, *tls_));
}

void Connection::write_plain_best_effort(std::span<const char> bytes) {
  std::error_code ec;
  asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
}

asio::awaitable<void> Connection::write_now(FrameKind kind, std::vector<Term> items) {
  auto bytes = encode_frame(kind, std::move(items), kHandshakeMaxFrame);
  if (!bytes) fail(CloseReason::Kind::closed, bytes.error().detail);
  if (tls_)
    co_await asio::async_write(*tls_, asio::buffer(bytes.value()), asio::use_awaitable);
  else
    co_await asio::async_write(socket_, asio::buffer(bytes.value()), asio::use_awaitable);
}

void Connection::reject(const char* code, CloseReason why) {
  // Best effort and synchronous: the peer learns why before the close.
  auto bytes = encode_frame(FrameKind::reject, Reject{code, why.text}.items(), kHandshakeMaxFrame);
  std::error_code ec;
  if (bytes && tls_)
    asio::write(*tls_, asio::buffer(bytes.value()), ec);
  else if (bytes)
    asio::write(socket_, asio::buffer(bytes.value()), ec);
  throw ConnectionEnded{std::move(why)};
}

// The handshake (DESIGN §6): what each frame must hold and what to answer
// is decided by the state machines of cluster/handshake_messages.hpp; here
// only the frames are read and written.
//   A -> B  hello     [version, id_a, creation_a, nonce_a, hidden_a]
//   B -> A  challenge [id_b, creation_b, nonce_b, proof_b(nonce_a)]
//   A -> B  response  [proof_a(nonce_b)]
//   B -> A  welcome
// Either side may answer reject [code, text] instead, and closes.

asio::awaitable<void> Connection::handshake_as_initiator() {
  InitiatorHandshake hs({host_.local_id(), host_.local_creation(), host_.cookie()}, peer_id_, random_nonce(),
                        host_.options().hidden);
  Outgoing hello = hs.hello();
  co_await write_now(hello.kind, std::move(hello.items));
  while (hs.state() != HandshakeState::established) {
    Frame f = co_await read_frame(kHandshakeMaxFrame);
    Step step = hs.on_frame(f);
    if (step.failure) {
      if (step.failure->reject_code.empty()) throw ConnectionEnded{close_reason(*step.failure)};
      reject(step.failure->reject_code.c_str(), close_reason(*step.failure));
    }
    if (hs.state() == HandshakeState::awaiting_welcome) peer_creation_ = static_cast<std::uint32_t>(hs.peer().creation);
    if (step.send) co_await write_now(step.send->kind, std::move(step.send->items));
  }
}

asio::awaitable<void> Connection::handshake_as_acceptor() {
  AcceptorHandshake hs({host_.local_id(), host_.local_creation(), host_.cookie()}, random_nonce());
  // Runs only for a peer that proved the cookie: only then may it enter the
  // table of node ids and the duplicate rule.
  const AcceptorHandshake::Admit admit = [this](const std::string& id, std::uint32_t creation) {
    peer_index_ = intern_node_name(id);
    return host_.admit(shared_from_this(), id, creation);
  };
  while (hs.state() != HandshakeState::established) {
    Frame f = co_await read_frame(kHandshakeMaxFrame);
    Step step = hs.on_frame(f, admit);
    if (step.failure) {
      if (step.failure->reject_code.empty()) throw ConnectionEnded{close_reason(*step.failure)};
      reject(step.failure->reject_code.c_str(), close_reason(*step.failure));
    }
    if (hs.state() == HandshakeState::awaiting_response) {  // the hello was accepted
      peer_id_ = hs.peer().id;
      peer_creation_ = static_cast<std::uint32_t>(hs.peer().creation);
      peer_hidden_ = hs.peer().hidden;
    }
    if (step.send) co_await write_now(step.send->kind, std::move(step.send->items));
  }
}

// ---- heartbeats -------------------------------------------------------------

asio::awaitable<void> Connection::heartbeats() {
  auto self = shared_from_this();
  const auto interval = host_.options().heartbeat_interval;
  // Checked four times per interval: detection lags phi by at most that.
  const auto tick = std::max<Clock::duration>(interval / 4, std::chrono::milliseconds(5));
  while (!closing_) {
    const auto now = Clock::now();
    if (now - last_heartbeat_sent_ >= interval) {
      last_heartbeat_sent_ = now;
      send(FrameKind::heartbeat, {Term(micros_now()), Term(host_.local_process_count())});
    }
    // Any frame is a sign of life (as Erlang's tick counts any traffic):
    // under bulk traffic a heartbeat waits its turn behind the data, and a
    // peer whose data still arrives is not silent. Phi is judged as if the
    // last heartbeat had come with the last frame.
    auto judged_at = now;
    if (auto hb = detector_.last_heartbeat(); hb && last_frame_at_ > *hb) judged_at = *hb + (now - last_frame_at_);
    if (detector_.suspected(judged_at)) {
      const auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(
          now - std::max(detector_.last_heartbeat().value_or(now), last_frame_at_));
      close({CloseReason::Kind::heartbeat, "no heartbeat for " + std::to_string(silent.count()) +
                                               " ms (phi " + std::to_string(detector_.phi(judged_at)) + ")"});
      co_return;
    }
    heartbeat_timer_.expires_after(tick);
    std::error_code ec;
    co_await heartbeat_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (read_ended_ && !dropped() && !closing_) {
      // The read loop ended while traffic was dropped and the fault was
      // healed since: the peer is gone for good.
      close({CloseReason::Kind::closed, "connection lost"});
      co_return;
    }
  }
}

void Connection::on_heartbeat(const Frame& f) {
  const auto now = Clock::now();
  if (f.kind == FrameKind::heartbeat) {
    detector_.heartbeat(now);
    send(FrameKind::heartbeat_ack, {f.at(0)});
    std::lock_guard lk(mu_);
    last_heartbeat_ = now;
    if (f.at(1).is_int()) stats_.peer_process_count = f.at(1).as_int();
  } else if (f.at(0).is_int()) {
    std::lock_guard lk(mu_);
    stats_.rtt = static_cast<double>(micros_now() - f.at(0).as_int()) / 1e6;
  }
}

Connection::Stats Connection::stats() const {
  std::lock_guard lk(mu_);
  Stats s = stats_;
  if (last_heartbeat_ != Clock::time_point{})
    s.since_heartbeat = std::chrono::duration<double>(Clock::now() - last_heartbeat_).count();
  return s;
}

// ---- writing ----------------------------------------------------------------

Result<bool> Connection::send(FrameKind kind, std::vector<Term> items) {
  auto bytes = encode_frame(kind, std::move(items), host_.options().max_frame_bytes);
  if (!bytes) return bytes.error();
  const bool urgent = kind == FrameKind::call || kind == FrameKind::reply || kind == FrameKind::heartbeat ||
                      kind == FrameKind::heartbeat_ack;
  if (!send(std::move(bytes.value()), urgent)) return Error{Errc::no_connection, "connection to " + peer_id_ + " is closed"};
  return true;
}

bool Connection::send(std::vector<char> frame, bool urgent) {
  if (dropped()) return true;  // lost on the cut network, as far as anyone can tell
  std::lock_guard lk(mu_);
  if (closed_) return false;
  if (const auto delay = delay_us_.load(std::memory_order_acquire); delay > 0 || !delayed_.empty()) {
    // A slow link (fault injection): frames wait their turn, in order.
    const bool arm = delayed_.empty();
    delayed_.emplace_back(Clock::now() + std::chrono::microseconds(delay), std::move(frame));
    if (arm) asio::post(host_.io(), [self = shared_from_this()] { self->release_delayed(); });
    return true;
  }
  if (urgent && fd_ >= 0 && !write_scheduled_) {
    // Someone waits for this frame (a call or its reply) and nothing is
    // queued or being written: the sending thread writes it now, sparing a
    // wake-up of the network thread (a call's latency is mostly such
    // hand-offs). Casts and sends take the queue instead, where many share
    // one write. Non-blocking: what the socket does not take is queued.
    // The fd stays open while closed_ is false, and closed_ is read under mu_.
    const ssize_t n = ::send(fd_, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(frame.size())) return true;
    if (n > 0) frame.erase(frame.begin(), frame.begin() + n);
    // Errors other than a full buffer are left to the async write to report.
  }
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  if (!write_scheduled_) {
    write_scheduled_ = true;
    asio::post(host_.io(), [self = shared_from_this()] { self->flush(); });
  }
  return true;
}

void Connection::release_delayed() {
  std::lock_guard lk(mu_);
  if (closed_) return;
  const auto now = Clock::now();
  while (!delayed_.empty() && delayed_.front().first <= now) {
    queued_bytes_ += delayed_.front().second.size();
    queue_.push_back(std::move(delayed_.front().second));
    delayed_.pop_front();
  }
  if (!queue_.empty() && !write_scheduled_) {
    write_scheduled_ = true;
    asio::post(host_.io(), [self = shared_from_this()] { self->flush(); });
  }
  if (delayed_.empty()) return;
  delay_timer_.expires_at(delayed_.front().first);
  delay_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
    if (!ec) self->release_delayed();
  });
}

void Connection::flush() {
  {
    std::lock_guard lk(mu_);
    if (closed_ || queue_.empty()) {
      write_scheduled_ = false;
      return;
    }
    writing_.clear();
    while (!queue_.empty()) {
      writing_.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  auto written = [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
    {
      std::lock_guard lk(self->mu_);
      self->queued_bytes_ -= std::min(self->queued_bytes_, n);
      self->writing_.clear();
      if (self->room_waiters_ > 0 && self->queued_bytes_ < self->host_.options().max_send_queue_bytes)
        self->room_cv_.notify_all();
    }
    if (ec) {
      self->close({CloseReason::Kind::closed, "write failed: " + ec.message()});
      return;
    }
    self->flush();
  };
  if (tls_) {
    // One buffer: a TLS stream makes a record (and a system call) of each
    // buffer of a sequence, so many small casts would each cost one.
    if (writing_.size() == 1) return asio::async_write(*tls_, asio::buffer(writing_.front()), std::move(written));
    tls_out_.clear();
    for (auto& w : writing_) tls_out_.insert(tls_out_.end(), w.begin(), w.end());
    return asio::async_write(*tls_, asio::buffer(tls_out_), std::move(written));
  }
  // Every frame queued so far goes out in one gathered write: under load,
  // many small casts share a system call.
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_.size());
  for (auto& w : writing_) buffers.emplace_back(asio::buffer(w));
  asio::async_write(socket_, buffers, std::move(written));
}

std::size_t Connection::queued_bytes() const {
  std::lock_guard lk(mu_);
  return queued_bytes_;
}

Result<bool> Connection::wait_for_room(std::uint64_t serial) {
  if (dropped() || host_.io().get_executor().running_in_this_thread()) return true;
  const auto deadline = Clock::now() + host_.options().overload_timeout;
  const std::size_t max_queue = host_.options().max_send_queue_bytes;
  std::unique_lock lk(mu_);
  auto queue_full = [&] { return max_queue > 0 && queued_bytes_ >= max_queue; };
  auto mailbox_full = [&] { return !full_mailboxes_.empty() && full_mailboxes_.contains(serial); };
  auto has_room = [&] { return closed_ || (!queue_full() && !mailbox_full()); };
  if (has_room()) return closed_ ? Result<bool>(Error{Errc::no_connection, "connection to " + peer_id_ + " is closed"})
                                 : Result<bool>(true);
  ++room_waiters_;
  const bool room = room_cv_.wait_until(lk, deadline, has_room);
  --room_waiters_;
  if (closed_) return Error{Errc::no_connection, "connection to " + peer_id_ + " is closed"};
  if (room) return true;
  if (mailbox_full())
    return Error{Errc::mailbox_full, "process " + std::to_string(serial) + " on " + peer_id_ +
                                         " still has too many messages from other nodes waiting"};
  return Error{Errc::overloaded, "the send queue to " + peer_id_ + " still holds " + std::to_string(queued_bytes_) +
                                     " bytes (max_send_queue " + std::to_string(max_queue) + ")"};
}

void Connection::set_peer_mailbox_full(std::uint64_t serial, bool full) {
  // An honest peer names only processes we send to faster than they drain.
  constexpr std::size_t kMaxFullMailboxes = 100000;
  std::lock_guard lk(mu_);
  if (!full) {
    if (full_mailboxes_.erase(serial) && room_waiters_ > 0) room_cv_.notify_all();
    return;
  }
  if (full_mailboxes_.size() >= kMaxFullMailboxes)
    throw std::invalid_argument("the peer named over " + std::to_string(kMaxFullMailboxes) + " full mailboxes");
  full_mailboxes_.insert(serial);
}

void Connection::say_goodbye() { send(FrameKind::goodbye, {Term("shutdown")}); }

void Connection::close(CloseReason why) {
  if (closing_) return;
  closing_ = true;
  close_reason_ = why;
  {
    std::lock_guard lk(mu_);
    closed_.store(true, std::memory_order_release);
    fd_ = -1;
    queue_.clear();
    room_cv_.notify_all();
  }
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  handshake_timer_.cancel();
  heartbeat_timer_.cancel();
  delay_timer_.cancel();
  host_.on_closed(shared_from_this(), why);
}

}  // namespace noexpp::cluster
