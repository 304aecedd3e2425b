#include "core/mailbox.hpp"

#include <thread>

namespace noexpp {

void MpscLane::push(MailboxLink* n) {
  n->next.store(nullptr, std::memory_order_relaxed);
  // seq_cst: pairs with Mailbox::go_idle's store-then-check (a Dekker pattern).
  MailboxLink* prev = tail_.exchange(n, std::memory_order_seq_cst);
  prev->next.store(n, std::memory_order_release);
}

MailboxLink* MpscLane::pop() {
  MailboxLink* head = head_;
  MailboxLink* next = head->next.load(std::memory_order_acquire);
  if (head == &stub_) {
    if (!next) return nullptr;
    head_ = next;
    head = next;
    next = next->next.load(std::memory_order_acquire);
  }
  if (next) {
    head_ = next;
    return head;
  }
  if (tail_.load(std::memory_order_acquire) != head) return nullptr;  // a push is mid-way
  push(&stub_);
  next = head->next.load(std::memory_order_acquire);
  if (next) {
    head_ = next;
    return head;
  }
  return nullptr;
}

Mailbox::~Mailbox() {
  // No producer can be left: they all hold the process while pushing.
  while (auto* n = priority_.pop()) delete static_cast<Envelope*>(n);
  while (auto* n = normal_.pop()) delete static_cast<Envelope*>(n);
}

Mailbox::Push Mailbox::push(Envelope* e) {
  if (state_.load(std::memory_order_acquire) & kClosed) {
    delete e;
    return Push::closed;
  }
  if (e->from_peer) peer_messages_.fetch_add(1, std::memory_order_seq_cst);
  (e->is_priority() ? priority_ : normal_).push(e);
  auto s = state_.load(std::memory_order_seq_cst);
  if (s & kClosed) return Push::closed;
  if (s == kIdle && state_.compare_exchange_strong(s, kScheduled, std::memory_order_seq_cst))
    return Push::queued_and_schedule;
  return Push::queued;
}

bool Mailbox::await_briefly(bool take_normal) const {
  for (int i = 0; i < 256; ++i) {
    if (priority_.is_pending() || (take_normal && normal_.is_pending())) return true;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  return false;
}

bool Mailbox::go_idle(bool take_normal) {
  // Consumer-only state is read before idle is published: from then on a
  // producer may schedule a new run that owns the lanes.
  if (priority_.has_unconsumed() || (take_normal && normal_.has_unconsumed())) return true;
  // Closed by a fatal signal's sender while this run was busy: the run goes
  // on until the process has finished its exit (the signal is queued).
  std::uint8_t expected = kScheduled;
  if (!state_.compare_exchange_strong(expected, kIdle, std::memory_order_seq_cst)) return true;
  if (priority_.was_pushed_to() || (take_normal && normal_.was_pushed_to())) {
    std::uint8_t expected = kIdle;
    return state_.compare_exchange_strong(expected, kScheduled, std::memory_order_seq_cst);
  }
  return false;
}

Envelope* Mailbox::drain_one() {
  for (;;) {
    if (auto* e = pop_priority()) return e;
    if (auto* e = pop_normal()) return e;
    if (!priority_.is_pending() && !normal_.is_pending()) return nullptr;
    std::this_thread::yield();  // a producer is between its exchange and its link
  }
}

}  // namespace noexpp
