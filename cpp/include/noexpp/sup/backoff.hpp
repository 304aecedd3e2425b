#pragma once
/// Exponential backoff between consecutive restarts of one child.
#include <chrono>

#include "noexpp/behavior.hpp"

namespace noexpp::sup {

struct Backoff {
  Duration initial = Duration::zero();  ///< zero: restart at once (OTP's behavior)
  Duration max = std::chrono::seconds(1);
  double factor = 2.0;
  double jitter = 0.0;  ///< fraction: the delay is scaled by a factor in [1 - jitter, 1 + jitter]
  /// A child that stayed up this long starts again from `initial`; zero
  /// means `max`.
  Duration reset_after = Duration::zero();

  bool enabled() const { return initial > Duration::zero(); }
  Duration reset_period() const { return reset_after > Duration::zero() ? reset_after : max; }
  /// The delay before restart number `attempt` (1 for the first restart
  /// after a healthy period): min(max, initial * factor^(attempt-1)),
  /// scaled by jitter. `unit_random` is uniform in [0, 1).
  Duration delay(int attempt, double unit_random) const;
};

}  // namespace noexpp::sup
