#include "noexpp/behavior_registry.hpp"

namespace noexpp {

BehaviorRegistry& BehaviorRegistry::instance() {
  static BehaviorRegistry r;
  return r;
}

Result<bool> BehaviorRegistry::add(BehaviorEntry entry) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(entry.name);
  if (it != entries_.end()) {
    if (it->second.identity == entry.identity) return false;
    return Error{Errc::duplicate_name, "behavior '" + entry.name + "' is already registered (" +
                                           it->second.language + ") with another implementation"};
  }
  auto name = entry.name;
  entries_.emplace(std::move(name), std::move(entry));
  return true;
}

std::optional<BehaviorEntry> BehaviorRegistry::find(const std::string& name) const {
  std::lock_guard lk(mu_);
  if (auto it = entries_.find(name); it != entries_.end()) return it->second;
  return std::nullopt;
}

std::vector<BehaviorEntry> BehaviorRegistry::list() const {
  std::lock_guard lk(mu_);
  std::vector<BehaviorEntry> out;
  for (auto& [n, e] : entries_) out.push_back(e);
  return out;
}

}  // namespace noexpp
