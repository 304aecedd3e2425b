#include "noexpp/core/mailbox.hpp"

namespace noexpp {

EnvelopeQueue& EnvelopeQueue::operator=(EnvelopeQueue&& o) noexcept {
  if (this != &o) {
    clear();
    head_ = o.head_;
    tail_ = o.tail_;
    o.head_ = o.tail_ = nullptr;
  }
  return *this;
}

void EnvelopeQueue::push(Envelope* e) {
  e->next = nullptr;
  if (tail_) tail_->next = e;
  else head_ = e;
  tail_ = e;
}

void EnvelopeQueue::append(EnvelopeQueue&& other) {
  if (other.empty()) return;
  if (tail_) tail_->next = other.head_;
  else head_ = other.head_;
  tail_ = other.tail_;
  other.head_ = other.tail_ = nullptr;
}

Envelope* EnvelopeQueue::pop() {
  Envelope* e = head_;
  if (e) {
    head_ = e->next;
    if (!head_) tail_ = nullptr;
    e->next = nullptr;
  }
  return e;
}

void EnvelopeQueue::clear() {
  while (Envelope* e = pop()) delete e;
}

Mailbox::Push Mailbox::push(Envelope* e) {
  std::unique_lock lk(mu_);
  if (closed_) {
    lk.unlock();
    delete e;
    return Push::closed;
  }
  (e->is_priority() ? priority_ : normal_).push(e);
  if (scheduled_) return Push::queued;
  scheduled_ = true;
  return Push::queued_and_schedule;
}

bool Mailbox::take(EnvelopeQueue& priority, EnvelopeQueue& normal, bool take_normal) {
  std::lock_guard lk(mu_);
  priority.append(std::move(priority_));
  if (take_normal) normal.append(std::move(normal_));
  if (priority.empty() && (!take_normal || normal.empty())) {
    scheduled_ = false;
    return false;
  }
  return true;
}

bool Mailbox::try_mark_scheduled() {
  std::lock_guard lk(mu_);
  if (scheduled_ || closed_) return false;
  scheduled_ = true;
  return true;
}

}  // namespace noexpp
