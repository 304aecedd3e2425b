#pragma once
/// The node's local registry: unique names for processes.
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "noexpp/pid.hpp"

namespace noexpp {

class Registry {
 public:
  /// False when `name` is taken. Thread: any.
  bool add(const std::string& name, Pid pid);
  /// Removes `name` only if it still names `pid`. Thread: any.
  void remove(const std::string& name, Pid pid);
  /// Removes `name` whoever holds it; false if it was free. Thread: any.
  bool remove(const std::string& name);
  std::optional<Pid> whereis(const std::string& name) const;
  std::vector<std::pair<std::string, Pid>> entries() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, Pid> names_;
};

}  // namespace noexpp
