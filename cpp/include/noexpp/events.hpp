#pragma once
/// Lifecycle events (DESIGN §5): supervisors and, later, the cluster report
/// every change here; subscribers in C++ and Python receive them in order.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "noexpp/fwd.hpp"
#include "noexpp/term.hpp"

namespace noexpp {

struct LifecycleEvent {
  std::string type;        ///< "supervisor_started", "child_restarted", ...
  double timestamp = 0;    ///< wall clock, seconds since the epoch
  double monotonic = 0;    ///< steady clock, seconds: for intervals between events
  Term fields;             ///< a map: supervisor, child_id, pid, reason, attempt, ...

  /// The event as one map (fields plus type, timestamp, monotonic).
  Term to_term() const;
};

/// Fans events out to subscribers. Events are delivered one at a time, in
/// the order emit() was called, on an engine thread, so a slow subscriber
/// delays later events but never the emitter.
class EventBus {
 public:
  using Subscriber = std::function<void(const LifecycleEvent&)>;

  /// How the bus runs its deliveries: the owner's engine threads.
  using Post = std::function<void(std::function<void()>)>;
  explicit EventBus(Post post) : post_(std::move(post)) {}

  /// Adds a subscriber, which receives the events emitted from now on (not
  /// those still queued from before); returns its id for unsubscribe.
  /// Thread: any.
  std::uint64_t subscribe(Subscriber s);
  /// Removes a subscriber; events already being delivered may still reach
  /// it. Thread: any.
  void unsubscribe(std::uint64_t id);
  /// Stamps `type` and `fields` with the time and queues the event. Cheap
  /// when nobody subscribes. Thread: any.
  void emit(std::string type, Term fields);
  /// Waits until every event emitted so far has been delivered, or until
  /// `timeout` passes (a node calls it before stopping its threads, so the
  /// events of a shutdown reach subscribers). Thread: not an engine thread.
  void flush(std::chrono::steady_clock::duration timeout);
  /// True when someone subscribes: emitters skip building fields otherwise. Thread: any.
  bool active() const { return count_.load(std::memory_order_relaxed) > 0; }

 private:
  void drain();

  Post post_;
  std::mutex mu_;
  struct Subscription {
    std::uint64_t id;
    std::uint64_t first_event;  ///< the sequence number of the first event it gets
    std::shared_ptr<Subscriber> fn;
  };
  std::vector<Subscription> subscribers_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_event_ = 1;  ///< sequence number of the next emit
  std::deque<std::pair<std::uint64_t, LifecycleEvent>> queue_;
  bool draining_ = false;
  std::condition_variable drained_;
  std::atomic<std::size_t> count_{0};
};

}  // namespace noexpp
