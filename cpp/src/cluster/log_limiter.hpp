#pragma once
/// At most one log line per key (a remote address) per window, so that a
/// flood of bad connections cannot flood the log or slow the node writing it.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace noexpp::cluster {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogLimiter(Clock::duration window = std::chrono::seconds(10)) : window_(window) {}

  /// True when a line about `key` may be written now; `suppressed` is then
  /// the number of lines about it held back since the last one written.
  bool allow(const std::string& key, std::uint64_t& suppressed, Clock::time_point now = Clock::now()) {
    std::lock_guard lk(mu_);
    if (slots_.size() >= kMaxKeys && !slots_.contains(key)) forget_older_than(now - window_);
    // Still full: every further address shares one slot (bounded memory).
    auto& slot = slots_.size() >= kMaxKeys && !slots_.contains(key) ? overflow_ : slots_[key];
    if (slot.written && now - slot.last < window_) {
      ++slot.suppressed;
      return false;
    }
    suppressed = slot.suppressed;
    slot = Slot{now, 0, true};
    return true;
  }

 private:
  /// Keys remembered at most; beyond, old ones are forgotten.
  static constexpr std::size_t kMaxKeys = 1024;
  struct Slot {
    Clock::time_point last{};
    std::uint64_t suppressed = 0;
    bool written = false;
  };

  void forget_older_than(Clock::time_point t) {
    std::erase_if(slots_, [&](const auto& kv) { return kv.second.last < t; });
  }

  const Clock::duration window_;
  std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;
  Slot overflow_;
};

}  // namespace noexpp::cluster
