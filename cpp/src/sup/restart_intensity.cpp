#include "noexpp/sup/restart_intensity.hpp"

namespace noexpp::sup {

void RestartIntensity::forget_before(TimePoint now) {
  // OTP keeps restarts within the period, bounds included.
  while (!restarts_.empty() && now - restarts_.front() > within_) restarts_.pop_front();
}

bool RestartIntensity::add(TimePoint now) {
  restarts_.push_back(now);
  forget_before(now);
  return static_cast<int>(restarts_.size()) <= max_;
}

int RestartIntensity::recent(TimePoint now) {
  forget_before(now);
  return static_cast<int>(restarts_.size());
}

}  // namespace noexpp::sup
