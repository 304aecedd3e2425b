#pragma once
// The node's timers (send_after): one Asio timer each, on the engine threads.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "noexpp/call.hpp"
#include "noexpp/pid.hpp"
#include "noexpp/term.hpp"

namespace noexpp {

class Timers {
 public:
  /// Delivers a timer's message when it fires (runs on an engine thread).
  using Fire = std::function<void(std::uint64_t id, Pid to, Term message)>;

  Timers(asio::io_context& io, Fire fire) : io_(io), fire_(std::move(fire)) {}

  /// Starts timer `id` (unique, from the caller). Thread: any.
  void start(std::uint64_t id, Pid to, Duration delay, Term message);
  /// False if it already fired or was cancelled. Thread: any.
  bool cancel(std::uint64_t id);
  /// Cancels every timer (node stop, before the engine threads stop).
  void cancel_all();
  /// Frees them (after the engine threads stopped).
  void clear();

 private:
  asio::io_context& io_;
  Fire fire_;
  std::mutex mu_;
  std::unordered_map<std::uint64_t, std::unique_ptr<asio::steady_timer>> timers_;
};

}  // namespace noexpp
