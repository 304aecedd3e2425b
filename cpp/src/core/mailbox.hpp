#pragma once
/// A process's mailbox: two lock-free multi-producer, single-consumer lanes
/// and the process's scheduling state.
#include <atomic>
#include <cstdint>
#include <mutex>

#include "core/internal/envelope.hpp"

namespace noexpp {

/// An intrusive MPSC queue (Dmitry Vyukov's design): a push is one atomic
/// exchange, a pop by the single consumer takes no lock. Ordering is FIFO
/// per producer, which gives Erlang's per-sender-pair ordering.
class MpscLane {
 public:
  MpscLane() : tail_(&stub_), head_(&stub_) {}
  MpscLane(const MpscLane&) = delete;
  MpscLane& operator=(const MpscLane&) = delete;

  /// Thread: any.
  void push(MailboxLink* n);
  /// The oldest item, or null when empty or when the next item is still
  /// being linked by a producer (is_pending() then says so). Thread: consumer.
  MailboxLink* pop();
  /// True if anything was pushed that pop() has not returned. Thread: consumer.
  bool is_pending() const { return has_unconsumed() || was_pushed_to(); }
  /// The consumer's half of is_pending: items seen but not yet returned.
  bool has_unconsumed() const { return head_ != &stub_; }
  /// The producers' half: something was pushed since the lane was last
  /// drained. Only reads the atomic tail, so any thread may ask.
  bool was_pushed_to() const { return tail_.load(std::memory_order_seq_cst) != &stub_; }

 private:
  std::atomic<MailboxLink*> tail_;
  MailboxLink* head_;  // consumer only
  MailboxLink stub_;
};

/// Ordinary messages (normal lane), and exit signals and replies to awaited
/// calls (priority lane, which bypasses a long queue of messages). The state
/// word says whether a run of the process is scheduled (or running) and
/// whether the process has exited. Idle cost: two lanes and a small mutex.
class Mailbox {
 public:
  enum class Push : unsigned char { queued, queued_and_schedule, closed };

  Mailbox() = default;
  ~Mailbox();  // frees what is left
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  /// Enqueues `e`; the mailbox owns it from then on, also when the result is
  /// `closed` (the process has exited; the envelope will not be handled).
  /// `queued_and_schedule`: the caller must schedule a run. Thread: any.
  Push push(Envelope* e);

  /// The next envelope of a lane; null when none is ready. Thread: owner.
  Envelope* pop_priority() { return static_cast<Envelope*>(priority_.pop()); }
  Envelope* pop_normal() {
    auto* e = static_cast<Envelope*>(normal_.pop());
    if (e && e->from_peer) peer_messages_.fetch_sub(1, std::memory_order_seq_cst);
    return e;
  }
  /// Messages from other nodes queued and not yet taken: what their
  /// backpressure limit counts. Local messages cost nothing here. Thread: any.
  std::int64_t peer_messages() const { return peer_messages_.load(std::memory_order_seq_cst); }

  /// Spins briefly (about a microsecond) for a message to arrive, as Erlang's
  /// schedulers busy-wait before sleeping: a stream of messages then never
  /// pays for a reschedule and a thread wake-up per message. Thread: owner.
  bool await_briefly(bool take_normal) const;

  /// The owner found nothing to do and lets go of the process. Returns true
  /// if work arrived meanwhile and the owner still owns it (keep running),
  /// and always once closed (the owner must run to finish the exit); false
  /// once another push may schedule a new run. Thread: owner.
  bool go_idle(bool take_normal);

  /// Marks the exit and runs `under_lock` atomically with it, if `pred()`
  /// holds there (under the same lock) and nobody closed it first. True if
  /// this call closed it. A closed mailbox is never idle again, so no new
  /// run is posted for it. Thread: any (the process itself, or the sender
  /// of a fatal signal while the process is busy).
  template <class P, class F>
  bool close_if(P&& pred, F&& under_lock) {
    std::lock_guard lk(links_mu_);
    if (closed() || !pred()) return false;
    state_.fetch_or(kClosed, std::memory_order_seq_cst);
    under_lock();
    return true;
  }
  template <class F>
  bool close(F&& under_lock) {
    return close_if([] { return true; }, std::forward<F>(under_lock));
  }
  /// After close: every envelope pushed before the close became visible,
  /// waiting out producers caught between their two steps. Thread: owner.
  Envelope* drain_one();

  /// Runs `f` under the links lock (what close_if wrote there is visible).
  template <class F>
  void locked(F&& f) {
    std::lock_guard lk(links_mu_);
    f();
  }
  /// Runs `f` under the links lock if the process has not exited; false if it
  /// has. Monitors and links are attached this way, atomically with death.
  template <class F>
  bool if_open(F&& f) {
    std::lock_guard lk(links_mu_);
    if (closed()) return false;
    f();
    return true;
  }
  bool closed() const { return state_.load(std::memory_order_acquire) & kClosed; }

 private:
  static constexpr std::uint8_t kIdle = 0;
  static constexpr std::uint8_t kScheduled = 1;  // a run is queued or running
  static constexpr std::uint8_t kClosed = 2;

  // A new process belongs to its spawner until init returns: scheduled.
  std::atomic<std::uint8_t> state_{kScheduled};
  MpscLane priority_;
  MpscLane normal_;
  std::atomic<std::int64_t> peer_messages_{0};
  std::mutex links_mu_;
};

}  // namespace noexpp
