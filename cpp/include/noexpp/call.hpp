#pragma once
/// What a caller gets back from a call, and where a reply goes.
#include <chrono>
#include <cstdint>
#include <string>

#include "noexpp/error.hpp"
#include "noexpp/exit_reason.hpp"
#include "noexpp/pid.hpp"
#include "noexpp/term.hpp"

namespace noexpp {

using Duration = std::chrono::steady_clock::duration;
/// Default call timeout, as gen_server's 5 s.
inline constexpr Duration kDefaultCallTimeout = std::chrono::seconds(5);
/// A timeout meaning "wait forever".
inline constexpr Duration kInfinity = Duration::max();

/// The outcome of a call as the caller sees it. `status` is one of the
/// core's codes: ok, call_timeout, no_process, process_crashed,
/// no_connection, self_call, node_stopped, message_too_large.
struct CallOutcome {
  Errc status = Errc::ok;
  Term value;          ///< the reply, when ok
  ExitReason reason;   ///< process_crashed / no_process: why the target went away
  std::string detail;  ///< message_too_large: what was too large, and the limit
  bool ok() const { return status == Errc::ok; }
  static CallOutcome reply(Term v) { return {Errc::ok, std::move(v), {}, {}}; }
  static CallOutcome failed(Errc s, ExitReason r = {}, std::string detail = {}) {
    return {s, {}, std::move(r), std::move(detail)};
  }
  /// The failure as an Error whose detail names `target` ("call to <pid> timed out").
  Error error(const std::string& target) const;
};

/// True for the codes a CallOutcome may carry (the wire checks peers' replies).
bool is_call_status(std::int64_t code);

/// Where a reply goes: the calling process (or the node itself, serial 0, for
/// calls made from outside any process) and the call's reference.
struct From {
  Pid caller;
  std::uint64_t ref = 0;
  friend bool operator==(const From&, const From&) = default;
};

}  // namespace noexpp
