#pragma once
/// OTP's restart intensity: more than `max_restarts` restarts within the
/// period means something is wrong that restarting will not fix.
#include <chrono>
#include <deque>

#include "noexpp/core/behavior.hpp"

namespace noexpp::sup {

class RestartIntensity {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  RestartIntensity(int max_restarts, Duration within) : max_(max_restarts), within_(within) {}

  /// Records a restart at `now`; false when it is one too many (the
  /// supervisor must give up). Restarts older than the period are forgotten.
  bool add(TimePoint now);
  /// Restarts recorded within the period before `now`.
  int recent(TimePoint now);

 private:
  void forget_before(TimePoint now);
  int max_;
  Duration within_;
  std::deque<TimePoint> restarts_;
};

}  // namespace noexpp::sup
