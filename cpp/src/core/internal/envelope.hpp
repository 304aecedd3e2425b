#pragma once
/// One message or signal in a mailbox; also what the router carries to other
/// nodes (its kinds travel on the wire).
#include <atomic>
#include <cstdint>
#include <memory>

#include "noexpp/call.hpp"
#include "noexpp/exit_reason.hpp"
#include "noexpp/pid.hpp"
#include "noexpp/term.hpp"

namespace noexpp {

/// The intrusive link of mailbox lanes (see MpscLane).
struct MailboxLink {
  std::atomic<MailboxLink*> next{nullptr};
};

/// An exit_signal's ref says where it came from: 0 = exit() (no link).
/// A link's signal (kLinkExit) counts only while the receiver still has the
/// link: once unlink has returned, a signal already in flight is void (as
/// in OTP 23+). kBrokenLinkExit comes from a link that is already gone on
/// the receiver's side (noproc at link time, the peer's node went down) and
/// counts regardless.
inline constexpr std::uint64_t kLinkExit = 1;
inline constexpr std::uint64_t kBrokenLinkExit = 2;

/// How an exit_signal is handled by a process that does not trap exits
/// (kept in the envelope's term). A trapping process gets plain and orderly
/// signals as EXIT messages; kill is never trappable.
enum class ExitSignalMode : std::int64_t {
  plain = 0,    ///< erlang:exit/2: an abnormal reason kills without terminate
  kill = 1,     ///< exit(Pid, kill): untrappable, no terminate
  orderly = 2,  ///< a supervisor's shutdown: terminate(reason) runs, then the process exits
};

struct Envelope : MailboxLink {
  enum class Kind : std::uint8_t {
    call,         ///< term = request, ref/from = reply address
    cast,         ///< term = request
    info,         ///< term = plain message (send, timers)
    down,         ///< monitor fired: from = monitored pid, ref = monitor ref, reason
    exit_signal,  ///< link or exit(): from = sender, reason, term = ExitSignalMode
    exit_message, ///< an exit signal a trapping process receives as a message (EXIT)
    stop,         ///< orderly stop request (gen_server:stop): reason
    call_done,    ///< a call this process awaits completed: ref, status, term (reply) or reason
  };

  explicit Envelope(Kind k, Pid sender = {}, std::uint64_t r = 0) : kind(k), from(sender), ref(r) {}
  Envelope(Kind k, Pid sender, std::uint64_t r, Term&& t) : kind(k), from(sender), ref(r), term(std::move(t)) {}

  /// An envelope that carries an exit reason (down, exit_signal, stop).
  static Envelope* with_reason(Kind k, Pid sender, std::uint64_t r, ExitReason reason, Term t = {}) {
    auto* e = new Envelope(k, sender, r, std::move(t));
    e->reason = std::make_unique<ExitReason>(std::move(reason));
    return e;
  }

  Kind kind;
  /// A cast or send that came from another node: counted against the
  /// receiver's limit for such messages (its backpressure, DESIGN §6).
  bool from_peer = false;
  Pid from;
  std::uint64_t ref = 0;
  Term term;
  std::unique_ptr<ExitReason> reason;  // down, exit_signal, stop; call_done when it failed
  /// call_done: the call's status; when it failed, `term` holds the
  /// outcome's detail (a string, or nil), so envelopes stay small.
  Errc status = Errc::ok;

  /// A call or a reply: its sender is about to wait, so the receiver may run
  /// next on the sender's thread (Executor::post's run_next).
  bool wakes_for_reply() const { return kind == Kind::call || kind == Kind::call_done; }
  /// Exit signals and completions of awaited calls bypass ordinary messages:
  /// as in Erlang, an exit signal kills a non-trapping process even behind a
  /// long message queue (or while it awaits a call). A trapping process turns
  /// it into an exit_message at the tail of its queue, so the EXIT comes
  /// after every message the dead process sent before dying.
  bool is_priority() const { return kind == Kind::exit_signal || kind == Kind::call_done; }
};

}  // namespace noexpp
