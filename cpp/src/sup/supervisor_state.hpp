#pragma once
// What a Supervisor handle and its process share: requests staged for the
// process to run, and the final stats once it has stopped.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "noexpp/sup/supervisor.hpp"

namespace noexpp::sup {

class SupervisorServer;

class SupervisorState {
 public:
  /// Work a handle asks the supervisor process to do (with typed results
  /// it captures), so no request needs encoding as a Term.
  using Job = std::function<void(SupervisorServer&)>;

  /// Parks `job`; the handle then calls the supervisor with the token. Thread: any.
  std::uint64_t stage(Job job) {
    std::lock_guard lk(mu_);
    auto token = next_token_++;
    jobs_.emplace(token, std::move(job));
    return token;
  }
  /// Takes a parked job (empty if the handle gave up on it). Thread: any.
  Job take(std::uint64_t token) {
    std::lock_guard lk(mu_);
    auto it = jobs_.find(token);
    if (it == jobs_.end()) return {};
    Job j = std::move(it->second);
    jobs_.erase(it);
    return j;
  }

  /// Set by the process as it stops. Thread: any.
  void set_final(SupervisorStats s) {
    std::lock_guard lk(mu_);
    final_ = std::move(s);
  }
  std::optional<SupervisorStats> final_stats() {
    std::lock_guard lk(mu_);
    return final_;
  }

 private:
  std::mutex mu_;
  std::uint64_t next_token_ = 1;
  std::unordered_map<std::uint64_t, Job> jobs_;
  std::optional<SupervisorStats> final_;
};

}  // namespace noexpp::sup
