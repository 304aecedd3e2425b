#include "core/registry.hpp"

namespace noexpp {

bool Registry::add(const std::string& name, Pid pid) {
  std::lock_guard lk(mu_);
  return names_.emplace(name, pid).second;
}

void Registry::remove(const std::string& name, Pid pid) {
  std::lock_guard lk(mu_);
  if (auto it = names_.find(name); it != names_.end() && it->second == pid) names_.erase(it);
}

bool Registry::remove(const std::string& name) {
  std::lock_guard lk(mu_);
  return names_.erase(name) > 0;
}

std::optional<Pid> Registry::whereis(const std::string& name) const {
  std::lock_guard lk(mu_);
  if (auto it = names_.find(name); it != names_.end()) return it->second;
  return std::nullopt;
}

std::vector<std::pair<std::string, Pid>> Registry::entries() const {
  std::lock_guard lk(mu_);
  return {names_.begin(), names_.end()};
}

}  // namespace noexpp
