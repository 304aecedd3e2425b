#pragma once
/// The phi accrual failure detector (Hayashibara et al., "The phi accrual
/// failure detector", 2004), in the variant Akka uses.
///
/// Instead of a yes/no timeout it reports phi, the suspicion that a peer is
/// down given how late its next heartbeat is compared with the intervals seen
/// so far: phi = -log10(P(a heartbeat arrives later than now)). phi = 1 means
/// a 10% chance the peer is still alive, phi = 8 one in 10^8. The intervals
/// are modelled as a normal distribution whose mean is the observed mean plus
/// `acceptable_pause` (pauses we choose to tolerate: GC, scheduling, a busy
/// event loop) and whose standard deviation is at least `min_std_dev` (on
/// loopback the jitter is ~0, which would make any delay look fatal).
///
/// Time is passed in, never read: the owner decides what "now" is, and tests
/// drive the detector with hand-made time points.
#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>

namespace noexpp::cluster {

struct PhiOptions {
  std::chrono::milliseconds heartbeat_interval{200};  ///< expected interval (bootstraps the history)
  double threshold = 8.0;                             ///< phi above this = suspected
  std::chrono::milliseconds acceptable_pause{800};    ///< added to the mean: tolerated GC/scheduling pauses
  std::chrono::milliseconds min_std_dev{100};         ///< floor of the std deviation (loopback jitter is ~0)
  std::size_t max_samples = 200;                      ///< sliding window of intervals
};

/// Suspicion of one peer, from the arrival times of its heartbeats.
///
/// Not thread-safe: one detector belongs to one thread (the connection's
/// strand or the membership loop), which calls both heartbeat() and phi().
///
/// Time points must not go backwards: a heartbeat earlier than the previous
/// one is ignored, and phi() at a time before the last heartbeat is computed
/// as if no time had passed.
class PhiAccrualDetector {
 public:
  using Clock = std::chrono::steady_clock;

  /// Out-of-range options are clamped (see options()): heartbeat_interval to
  /// at least 1 ms, acceptable_pause and min_std_dev to at least 0,
  /// max_samples to at least 2, and a NaN threshold becomes the default 8.0.
  explicit PhiAccrualDetector(PhiOptions o = {});

  /// A heartbeat arrived at `now`. The first one seeds the history with two
  /// intervals around heartbeat_interval (mean = interval, std dev =
  /// interval / 4), so phi is meaningful from the start. Later ones add the
  /// interval since the previous heartbeat, unless the peer was already
  /// suspected at `now`: the gap of an outage says nothing about the normal
  /// rhythm and would make the detector slow to suspect the next one.
  void heartbeat(Clock::time_point now);

  /// The suspicion level at `now`: 0 before the first heartbeat, then rising
  /// with the time since the last heartbeat. Always finite and >= 0.
  double phi(Clock::time_point now) const;

  /// True when phi(now) is above the threshold.
  bool suspected(Clock::time_point now) const { return phi(now) > options_.threshold; }

  /// How long after the last heartbeat phi crosses the threshold if nothing
  /// else arrives: the first whole millisecond at which suspected() is true.
  /// For logs and for scheduling the next check at last_heartbeat() + this.
  /// Before the first heartbeat, the value it will have right after it.
  /// Capped at a quarter of Clock's range, so adding it to a time point is
  /// safe even for absurd thresholds.
  std::chrono::milliseconds time_to_suspicion() const;

  /// The options in use, after clamping.
  const PhiOptions& options() const { return options_; }
  /// Intervals in the history (0 before the first heartbeat).
  std::size_t samples() const { return intervals_.size(); }
  /// Mean of the history (heartbeat_interval before the first heartbeat).
  std::chrono::microseconds mean_interval() const;
  /// When the last heartbeat arrived, if any did.
  std::optional<Clock::time_point> last_heartbeat() const { return last_; }

 private:
  void add_interval(double ms);
  /// The normal distribution phi is computed against: (mean, std dev) in ms,
  /// with acceptable_pause and min_std_dev applied.
  double effective_mean_ms() const;
  double effective_std_dev_ms() const;
  double phi_after(double elapsed_ms) const;

  PhiOptions options_;
  std::deque<double> intervals_;  ///< in milliseconds, oldest first
  double mean_ms_ = 0;            ///< of intervals_, recomputed on each change
  double std_dev_ms_ = 0;
  std::optional<Clock::time_point> last_;
};

}  // namespace noexpp::cluster
