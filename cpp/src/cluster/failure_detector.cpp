#include "cluster/failure_detector.hpp"

#include <algorithm>
#include <cmath>

namespace noexpp::cluster {
namespace {

using std::chrono::milliseconds;
using Ms = std::chrono::duration<double, std::milli>;

// Akka's logistic approximation of the standard normal CDF (Bowling et al.,
// "A logistic approximation to the cumulative normal distribution", 2009):
// P(X > y) ~= 1 / (1 + exp(y * (kA + kB * y^2))), error below 1.4e-4.
constexpr double kA = 1.5976;
constexpr double kB = 0.070566;

/// Floor of the standard deviation when min_std_dev is 0 and every interval
/// is equal: avoids a division by zero, and at 1 us it changes nothing real.
constexpr double kMinStdDevMs = 1e-3;
/// |y| beyond this many standard deviations is saturated: phi is already
/// astronomically high (or exactly 0), and y^3 stays far from overflow.
constexpr double kMaxY = 1e6;

/// log(1 + exp(g)) without overflow for large g or underflow to -inf.
double softplus(double g) { return g > 0 ? g + std::log1p(std::exp(-g)) : std::log1p(std::exp(g)); }

/// The largest time_to_suspicion(): a quarter of the clock's range, so that
/// `now + time_to_suspicion()` cannot overflow.
milliseconds max_time_to_suspicion() {
  return std::chrono::duration_cast<milliseconds>(PhiAccrualDetector::Clock::duration::max()) / 4;
}

PhiOptions clamped(PhiOptions o) {
  o.heartbeat_interval = std::max(o.heartbeat_interval, milliseconds{1});
  o.acceptable_pause = std::max(o.acceptable_pause, milliseconds{0});
  o.min_std_dev = std::max(o.min_std_dev, milliseconds{0});
  o.max_samples = std::max<std::size_t>(o.max_samples, 2);
  if (std::isnan(o.threshold)) o.threshold = PhiOptions{}.threshold;
  return o;
}

}  // namespace

PhiAccrualDetector::PhiAccrualDetector(PhiOptions o) : options_(clamped(o)) {
  // Before the first heartbeat, report the statistics it will seed.
  mean_ms_ = Ms(options_.heartbeat_interval).count();
  std_dev_ms_ = mean_ms_ / 4;
}

void PhiAccrualDetector::add_interval(double ms) {
  intervals_.push_back(ms);
  while (intervals_.size() > options_.max_samples) intervals_.pop_front();
  // Recomputed in two passes rather than kept as running sums: at most
  // max_samples values, once per heartbeat, and no drift or negative
  // variance from cancellation however long the peer lives.
  double sum = 0;
  for (double v : intervals_) sum += v;
  mean_ms_ = sum / static_cast<double>(intervals_.size());
  double squares = 0;
  for (double v : intervals_) squares += (v - mean_ms_) * (v - mean_ms_);
  std_dev_ms_ = std::sqrt(squares / static_cast<double>(intervals_.size()));
}

void PhiAccrualDetector::heartbeat(Clock::time_point now) {
  if (!last_) {
    const double interval = Ms(options_.heartbeat_interval).count();
    add_interval(interval - interval / 4);
    add_interval(interval + interval / 4);
    last_ = now;
    return;
  }
  if (now < *last_) return;
  if (!suspected(now)) add_interval(Ms(now - *last_).count());
  last_ = now;
}

double PhiAccrualDetector::effective_mean_ms() const { return mean_ms_ + Ms(options_.acceptable_pause).count(); }

double PhiAccrualDetector::effective_std_dev_ms() const {
  return std::max({std_dev_ms_, Ms(options_.min_std_dev).count(), kMinStdDevMs});
}

double PhiAccrualDetector::phi_after(double elapsed_ms) const {
  // Akka computes e = exp(-g) and then -log10(e / (1 + e)) or
  // -log10(1 - 1 / (1 + e)) by the sign of y; both equal log10(1 + exp(g)),
  // which softplus evaluates without the inf/NaN that exp(-g) underflowing
  // to 0 would give for a long-silent peer.
  const double y = std::clamp((elapsed_ms - effective_mean_ms()) / effective_std_dev_ms(), -kMaxY, kMaxY);
  const double g = y * (kA + kB * y * y);
  return softplus(g) / std::log(10.0);
}

double PhiAccrualDetector::phi(Clock::time_point now) const {
  if (!last_) return 0.0;
  return phi_after(std::max(Ms(now - *last_).count(), 0.0));
}

std::chrono::milliseconds PhiAccrualDetector::time_to_suspicion() const {
  const double threshold = options_.threshold;
  const milliseconds cap = max_time_to_suspicion();
  if (threshold <= 0) return milliseconds{0};
  // phi = threshold  <=>  g(y) = y * (kA + kB * y^2) = L with
  // L = ln(10^threshold - 1), written to neither overflow nor lose precision.
  const double x = threshold * std::log(10.0);
  const double l = x + std::log(-std::expm1(-x));
  // g is strictly increasing, so y^3 + p*y + q = 0 has one real root
  // (Cardano: y = u - p / (3u), u picked on the side of q's sign so that
  // the square root is added to -q/2, not cancelled by it).
  const double p = kA / kB;
  const double q = -l / kB;
  const double u = std::cbrt(-q / 2 - std::copysign(std::sqrt(q * q / 4 + p * p * p / 27), q));
  const double y = u - p / (3 * u);
  // Beyond kMaxY phi_after saturates below this threshold: never suspected.
  if (!(y < kMaxY)) return cap;
  const double t = effective_mean_ms() + y * effective_std_dev_ms();
  if (!std::isfinite(t) || t >= static_cast<double>(cap.count())) return cap;
  // The root is exact to far below a millisecond; these steps only settle
  // rounding so that the result is the first whole ms that is suspected.
  auto ms = static_cast<milliseconds::rep>(std::ceil(std::max(t, 0.0)));
  for (int i = 0; i < 4 && ms > 0 && phi_after(static_cast<double>(ms - 1)) > threshold; ++i) --ms;
  for (int i = 0; i < 4 && !(phi_after(static_cast<double>(ms)) > threshold); ++i) ++ms;
  return milliseconds{ms};
}

std::chrono::microseconds PhiAccrualDetector::mean_interval() const {
  return std::chrono::round<std::chrono::microseconds>(Ms(mean_ms_));
}

}  // namespace noexpp::cluster
