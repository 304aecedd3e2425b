// The phi accrual failure detector, driven by hand-made time points (no
// sleeps): how soon a silent peer is suspected with the defaults, that a
// jittery but alive peer is not, and that phi stays a finite number whatever
// the input.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <vector>

#include "cluster/failure_detector.hpp"

namespace noexpp::test {
namespace {

using namespace std::chrono_literals;
using cluster::PhiAccrualDetector;
using cluster::PhiOptions;
using Clock = PhiAccrualDetector::Clock;
using std::chrono::milliseconds;

/// An arbitrary start, far enough from the epoch to step back from.
const Clock::time_point kStart = Clock::time_point{} + 1h;

/// Feeds `count` heartbeats `every` apart starting at `t`; returns the time
/// of the last one.
Clock::time_point beat_regularly(PhiAccrualDetector& d, Clock::time_point t, int count, milliseconds every) {
  for (int i = 0; i < count; ++i) {
    if (i > 0) t += every;
    d.heartbeat(t);
  }
  return t;
}

/// The first whole millisecond of silence after `last` at which `d` suspects
/// the peer (searching up to `limit`); -1 if it never does.
long first_suspected_ms(const PhiAccrualDetector& d, Clock::time_point last, milliseconds limit = 60s) {
  for (long ms = 0; ms <= limit.count(); ++ms) {
    if (d.suspected(last + milliseconds{ms})) return ms;
  }
  return -1;
}

/// A small deterministic generator (the standard distributions' output
/// differs between standard libraries; this does not).
class Lcg {
 public:
  explicit Lcg(std::uint64_t seed) : state_(seed) {}
  /// Uniform-ish in [lo, hi].
  long next(long lo, long hi) {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + static_cast<long>((state_ >> 33) % static_cast<std::uint64_t>(hi - lo + 1));
  }

 private:
  std::uint64_t state_;
};

TEST(PhiAccrualDetector, PhiIsZeroBeforeTheFirstHeartbeat) {
  PhiAccrualDetector d;
  EXPECT_EQ(d.phi(kStart), 0.0);
  EXPECT_EQ(d.phi(kStart + 1h), 0.0);
  EXPECT_FALSE(d.suspected(kStart + 1h));
  EXPECT_EQ(d.samples(), 0u);
  EXPECT_FALSE(d.last_heartbeat().has_value());
  EXPECT_EQ(d.mean_interval(), 200ms);
}

TEST(PhiAccrualDetector, FirstHeartbeatSeedsTheHistoryAroundTheExpectedInterval) {
  PhiAccrualDetector d;
  d.heartbeat(kStart);
  EXPECT_EQ(d.samples(), 2u);
  EXPECT_EQ(d.mean_interval(), 200ms);
  EXPECT_EQ(d.last_heartbeat(), kStart);
  EXPECT_LT(d.phi(kStart), 1e-3);
  EXPECT_LT(d.phi(kStart + 200ms), 1e-3);
}

TEST(PhiAccrualDetector, SilentPeerSuspectedWithinTwoSeconds) {
  // The default promise: a peer beating every 200 ms that goes silent is
  // suspected after 1.3-1.8 s, so a silent failure is found within 2 s,
  // while the 800 ms acceptable pause still absorbs a GC or a busy loop.
  PhiAccrualDetector d;
  const auto last = beat_regularly(d, kStart, 50, 200ms);
  EXPECT_FALSE(d.suspected(last + 1300ms)) << "phi " << d.phi(last + 1300ms);
  EXPECT_TRUE(d.suspected(last + 1800ms)) << "phi " << d.phi(last + 1800ms);
  const long found = first_suspected_ms(d, last);
  EXPECT_GE(found, 1300);
  EXPECT_LE(found, 1800);
  EXPECT_EQ(d.time_to_suspicion(), milliseconds{found});
}

TEST(PhiAccrualDetector, SilentPeerSuspectedWithinTwoSecondsRightAfterConnecting) {
  // The bootstrapped history alone gives the same promise.
  PhiAccrualDetector d;
  d.heartbeat(kStart);
  const long found = first_suspected_ms(d, kStart);
  EXPECT_GE(found, 1300);
  EXPECT_LE(found, 1800);
}

TEST(PhiAccrualDetector, JitteryPeerNeverSuspectedWhenAHeartbeatArrives) {
  PhiAccrualDetector d;
  Lcg rng(42);
  auto t = kStart;
  d.heartbeat(t);
  for (int i = 0; i < 2000; ++i) {
    t += milliseconds{rng.next(150, 600)};
    ASSERT_FALSE(d.suspected(t)) << "heartbeat " << i << ": phi " << d.phi(t) << ", mean "
                                 << d.mean_interval().count() << " us";
    d.heartbeat(t);
  }
}

TEST(PhiAccrualDetector, LongestJitterAfterAFullWindowOfShortestIsNotSuspected) {
  // The worst case of the 150-600 ms jitter: a window of 150 ms intervals
  // (mean 150, std dev 0) followed by a 600 ms one.
  PhiAccrualDetector d;
  const auto last = beat_regularly(d, kStart, 400, 150ms);
  EXPECT_FALSE(d.suspected(last + 600ms)) << "phi " << d.phi(last + 600ms);
}

TEST(PhiAccrualDetector, PhiRisesWithSilence) {
  PhiAccrualDetector d;
  const auto last = beat_regularly(d, kStart, 20, 200ms);
  double previous = d.phi(last);
  for (auto gap = 10ms; gap <= 5000ms; gap += 10ms) {
    const double now = d.phi(last + gap);
    EXPECT_GE(now, previous) << "at " << gap.count() << " ms";
    previous = now;
  }
  EXPECT_GT(previous, d.options().threshold);
}

TEST(PhiAccrualDetector, PhiStaysFiniteAfterAVeryLongSilence) {
  PhiAccrualDetector d;
  const auto last = beat_regularly(d, kStart, 20, 200ms);
  for (auto gap : {10s, std::chrono::seconds{3600}, std::chrono::seconds{3600L * 24 * 365 * 100}}) {
    const double phi = d.phi(last + gap);
    EXPECT_TRUE(std::isfinite(phi)) << phi;
    EXPECT_GT(phi, d.options().threshold);
  }
}

TEST(PhiAccrualDetector, PhiStaysFiniteWithNoStdDevFloorAndPerfectlyRegularBeats) {
  PhiOptions o;
  o.min_std_dev = 0ms;
  o.acceptable_pause = 0ms;
  o.max_samples = 10;  // the bootstrap samples leave the window: std dev becomes exactly 0
  PhiAccrualDetector d(o);
  const auto last = beat_regularly(d, kStart, 50, 200ms);
  EXPECT_EQ(d.mean_interval(), 200ms);
  for (auto gap : {0ms, 199ms, 200ms, 201ms, 10000ms}) {
    const double phi = d.phi(last + gap);
    EXPECT_TRUE(std::isfinite(phi)) << gap.count() << " ms: " << phi;
    EXPECT_GE(phi, 0.0) << gap.count() << " ms";
  }
  EXPECT_FALSE(d.suspected(last + 199ms));
  EXPECT_TRUE(d.suspected(last + 201ms));
  const auto tts = d.time_to_suspicion();
  EXPECT_TRUE(d.suspected(last + tts));
  EXPECT_FALSE(d.suspected(last + tts - 1ms));
}

TEST(PhiAccrualDetector, TimeToSuspicionIsTheFirstSuspectedMillisecond) {
  std::vector<PhiOptions> cases(5);
  cases[1].threshold = 1.0;
  cases[2].threshold = 16.0;
  cases[3].heartbeat_interval = 1000ms;
  cases[3].acceptable_pause = 3000ms;
  cases[4].threshold = 0.1;  // below log10(2): crosses before the mean
  for (const auto& o : cases) {
    PhiAccrualDetector d(o);
    const auto last = beat_regularly(d, kStart, 30, o.heartbeat_interval);
    const auto tts = d.time_to_suspicion();
    EXPECT_TRUE(d.suspected(last + tts)) << "threshold " << o.threshold << ": " << tts.count() << " ms";
    EXPECT_FALSE(d.suspected(last + tts - 1ms)) << "threshold " << o.threshold << ": " << tts.count() << " ms";
  }
}

TEST(PhiAccrualDetector, TimeToSuspicionBeforeTheFirstHeartbeatIsItsValueAfterIt) {
  PhiAccrualDetector d;
  const auto before = d.time_to_suspicion();
  d.heartbeat(kStart);
  EXPECT_EQ(d.time_to_suspicion(), before);
}

TEST(PhiAccrualDetector, HigherThresholdSuspectsLater) {
  PhiOptions low;
  low.threshold = 4.0;
  PhiOptions high;
  high.threshold = 12.0;
  PhiAccrualDetector a(low), b(high);
  beat_regularly(a, kStart, 20, 200ms);
  beat_regularly(b, kStart, 20, 200ms);
  EXPECT_LT(a.time_to_suspicion(), b.time_to_suspicion());
}

TEST(PhiAccrualDetector, SlowerRhythmIsSuspectedLater) {
  PhiOptions slow;
  slow.heartbeat_interval = 1000ms;
  PhiAccrualDetector fast_peer, slow_peer(slow);
  const auto last_fast = beat_regularly(fast_peer, kStart, 20, 200ms);
  const auto last_slow = beat_regularly(slow_peer, kStart, 20, 1000ms);
  EXPECT_TRUE(fast_peer.suspected(last_fast + 2s));
  EXPECT_FALSE(slow_peer.suspected(last_slow + 2s));
  EXPECT_LT(fast_peer.time_to_suspicion(), slow_peer.time_to_suspicion());
}

TEST(PhiAccrualDetector, ExtremeThresholdsGiveBoundedTimes) {
  PhiOptions zero;
  zero.threshold = 0.0;
  EXPECT_EQ(PhiAccrualDetector(zero).time_to_suspicion(), 0ms);

  const auto cap = std::chrono::duration_cast<milliseconds>(Clock::duration::max()) / 4;
  for (double threshold : {1e17, 1e300, HUGE_VAL}) {
    PhiOptions o;
    o.threshold = threshold;
    PhiAccrualDetector d(o);
    d.heartbeat(kStart);
    EXPECT_EQ(d.time_to_suspicion(), cap) << threshold;
    EXPECT_FALSE(d.suspected(kStart + std::chrono::hours(24 * 365))) << threshold;
  }

  PhiOptions tiny;
  tiny.threshold = 1e-9;
  PhiAccrualDetector d(tiny);
  d.heartbeat(kStart);
  const auto tts = d.time_to_suspicion();
  EXPECT_TRUE(d.suspected(kStart + tts));
  if (tts > 0ms) {
    EXPECT_FALSE(d.suspected(kStart + tts - 1ms));
  }
}

TEST(PhiAccrualDetector, HeartbeatAfterSuspicionIsNotAddedToTheHistory) {
  // The gap of an outage is not the peer's rhythm: recording it would make
  // the detector slow to notice the next outage.
  PhiAccrualDetector d;
  const auto last = beat_regularly(d, kStart, 20, 200ms);
  const auto samples = d.samples();
  const auto mean = d.mean_interval();
  const auto back = last + 30s;
  ASSERT_TRUE(d.suspected(back));
  d.heartbeat(back);
  EXPECT_EQ(d.samples(), samples);
  EXPECT_EQ(d.mean_interval(), mean);
  EXPECT_EQ(d.last_heartbeat(), back);
  EXPECT_FALSE(d.suspected(back + 200ms));
}

TEST(PhiAccrualDetector, HistoryIsASlidingWindowOfMaxSamples) {
  PhiOptions o;
  o.max_samples = 10;
  PhiAccrualDetector d(o);
  auto last = beat_regularly(d, kStart, 50, 200ms);
  last = beat_regularly(d, last + 400ms, 50, 400ms);
  EXPECT_EQ(d.samples(), 10u);
  EXPECT_EQ(d.mean_interval(), 400ms);
}

TEST(PhiAccrualDetector, HeartbeatEarlierThanTheLastIsIgnored) {
  PhiAccrualDetector d;
  const auto last = beat_regularly(d, kStart, 5, 200ms);
  const auto samples = d.samples();
  d.heartbeat(last - 1s);
  EXPECT_EQ(d.samples(), samples);
  EXPECT_EQ(d.last_heartbeat(), last);
  EXPECT_EQ(d.phi(last - 1s), d.phi(last));
}

TEST(PhiAccrualDetector, OutOfRangeOptionsAreClamped) {
  PhiOptions o;
  o.heartbeat_interval = -5ms;
  o.acceptable_pause = -1ms;
  o.min_std_dev = -1ms;
  o.max_samples = 0;
  o.threshold = std::nan("");
  PhiAccrualDetector d(o);
  EXPECT_EQ(d.options().heartbeat_interval, 1ms);
  EXPECT_EQ(d.options().acceptable_pause, 0ms);
  EXPECT_EQ(d.options().min_std_dev, 0ms);
  EXPECT_EQ(d.options().max_samples, 2u);
  EXPECT_EQ(d.options().threshold, 8.0);
  const auto last = beat_regularly(d, kStart, 10, 1ms);
  EXPECT_TRUE(std::isfinite(d.phi(last + 1s)));
  EXPECT_TRUE(d.suspected(last + 1s));
}

}  // namespace
}  // namespace noexpp::test
