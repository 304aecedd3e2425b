#pragma once
/// A process's mailbox: two intrusive FIFO lanes under one mutex.
#include <cstddef>
#include <mutex>

#include "noexpp/core/envelope.hpp"

namespace noexpp {

/// An intrusive singly linked FIFO of envelopes; owns what it holds.
class EnvelopeQueue {
 public:
  EnvelopeQueue() = default;
  EnvelopeQueue(const EnvelopeQueue&) = delete;
  EnvelopeQueue& operator=(const EnvelopeQueue&) = delete;
  EnvelopeQueue(EnvelopeQueue&& o) noexcept : head_(o.head_), tail_(o.tail_) { o.head_ = o.tail_ = nullptr; }
  EnvelopeQueue& operator=(EnvelopeQueue&& o) noexcept;
  ~EnvelopeQueue() { clear(); }

  bool empty() const { return head_ == nullptr; }
  void push(Envelope* e);
  void append(EnvelopeQueue&& other);
  Envelope* pop();
  void clear();

 private:
  Envelope* head_ = nullptr;
  Envelope* tail_ = nullptr;
};

/// Ordinary messages (normal lane) and exit signals / awaited replies
/// (priority lane). The mailbox also carries the process's "scheduled" bit, so
/// that deciding to schedule and enqueuing happen under one lock and no wakeup
/// is lost. Idle cost: one mutex and four pointers.
class Mailbox {
 public:
  enum class Push : unsigned char { queued, queued_and_schedule, closed };

  /// Enqueues `e` (taking ownership) unless the mailbox is closed, in which
  /// case `e` is deleted. Thread: any.
  Push push(Envelope* e);

  /// Moves everything waiting into the owner's local queues. When nothing is
  /// waiting in the lanes the owner may run (normal only if `take_normal`),
  /// clears the scheduled bit and returns false. Thread: owner strand.
  bool take(EnvelopeQueue& priority, EnvelopeQueue& normal, bool take_normal);

  /// Marks the process as scheduled if it was not; true when the caller must
  /// schedule it. Thread: any.
  bool try_mark_scheduled();

  /// Refuses all later pushes, hands back what was queued and runs
  /// `under_lock` (which takes the monitors and links) atomically with the
  /// closing. Thread: owner.
  template <class F>
  void close(EnvelopeQueue& priority, EnvelopeQueue& normal, F&& under_lock) {
    std::lock_guard lk(mu_);
    closed_ = true;
    priority.append(std::move(priority_));
    normal.append(std::move(normal_));
    under_lock();
  }

  /// Runs `f` under the mailbox lock if the mailbox is open; returns false if
  /// closed. Used to attach monitors and links atomically with death.
  template <class F>
  bool if_open(F&& f) {
    std::lock_guard lk(mu_);
    if (closed_) return false;
    f();
    return true;
  }
  bool closed() const {
    std::lock_guard lk(mu_);
    return closed_;
  }

 private:
  mutable std::mutex mu_;
  EnvelopeQueue priority_;
  EnvelopeQueue normal_;
  bool scheduled_ = true;  // a new process belongs to its spawner until init returns
  bool closed_ = false;
};

}  // namespace noexpp
