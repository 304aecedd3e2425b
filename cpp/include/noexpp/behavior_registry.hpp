#pragma once
/// The process-wide behavior registry: behavior name -> factory, shared by
/// every node in the OS process and by C++ and Python (DESIGN §6).
#include <mutex>
#include <optional>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "noexpp/behavior.hpp"
#include "noexpp/error.hpp"
#include "noexpp/version.hpp"

namespace noexpp {

struct BehaviorEntry {
  std::string name;
  std::string language;     ///< "cpp" or "python"
  BehaviorFactory factory;
  const void* identity;     ///< the C++ type_info or the Python class: same identity = same behavior
};

class BehaviorRegistry {
 public:
  static BehaviorRegistry& instance();
  /// Registers `entry`. Registering the same name again with the same identity
  /// is a no-op; with another identity it fails with Errc::duplicate_name. Thread: any.
  Result<bool> add(BehaviorEntry entry);
  std::optional<BehaviorEntry> find(const std::string& name) const;
  std::vector<BehaviorEntry> list() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, BehaviorEntry> entries_;
};

/// Registers the C++ behavior T (a GenServer) as `name`; each process of it
/// is a new T built from copies of `ctor_args` (none: default-constructed),
/// e.g. `register_behavior<Pool>("pool_of_8", 8)`. Refused (invalid_argument,
/// naming both versions) when the engine library loaded is not the one
/// these headers describe.
template <class T, class... Args>
Result<bool> register_behavior(std::string name, Args... ctor_args) {
  if (!engine_matches_headers())
    return Error{make_error_code(Errc::invalid_argument),
                 "behavior '" + name + "' was built against noexpp " + kHeaderVersion +
                     " headers, but the engine loaded is noexpp " + engine_version() +
                     ": rebuild the module against the installed noexpp"};
  return BehaviorRegistry::instance().add(
      BehaviorEntry{std::move(name), "cpp", [ctor_args...] { return std::make_unique<T>(ctor_args...); }, &typeid(T)});
}

}  // namespace noexpp
