#include "noexpp/sup/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace noexpp::sup {

Duration Backoff::delay(int attempt, double unit_random) const {
  if (!enabled()) return Duration::zero();
  using Secs = std::chrono::duration<double>;
  const double base = std::chrono::duration_cast<Secs>(initial).count() *
                      std::pow(factor, std::max(0, attempt - 1));
  const double capped = std::min(base, std::chrono::duration_cast<Secs>(max).count());
  const double scaled = capped * (1.0 + jitter * (2.0 * unit_random - 1.0));
  return std::chrono::duration_cast<Duration>(Secs(std::max(0.0, scaled)));
}

}  // namespace noexpp::sup
