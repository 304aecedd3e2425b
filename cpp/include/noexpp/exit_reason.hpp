#pragma once
/// Why a process exited (DESIGN §4).
#include <cstddef>
#include <cstdint>
#include <string>

#include "noexpp/term.hpp"

namespace noexpp {

struct ExitReason {
  enum class Kind : std::uint8_t {
    normal,         ///< finished its work
    shutdown,       ///< asked to stop by its supervisor or the node
    shutdown_term,  ///< {shutdown, detail}: a shutdown that carries a reason
    killed,         ///< untrappable kill
    noproc,         ///< the linked/monitored process did not exist
    noconnection,   ///< its node became unreachable
    error,          ///< a handler raised: error_type + message
    other,          ///< any other term given to stop()/exit()
  };

  Kind kind = Kind::normal;
  std::string error_type;  ///< error: exception type name
  std::string message;     ///< error: exception text (kept for supervisors and logs)
  Term detail;             ///< shutdown_term / other
  /// error: what the process was handling when it crashed ("cast 'inc'"),
  /// truncated (OTP's "Last message in was ..."). Context for logs and
  /// supervisors, not part of the reason's identity (== ignores it).
  std::string last_message;
  /// error: where it was raised, as text (a Python handler's traceback;
  /// empty for C++ exceptions), bounded. Context too: == ignores it.
  std::string traceback;

  static ExitReason normal() { return {}; }
  static ExitReason shutdown() { return {Kind::shutdown, {}, {}, {}, {}, {}}; }
  static ExitReason shutdown_with(Term t) { return {Kind::shutdown_term, {}, {}, std::move(t), {}, {}}; }
  static ExitReason killed() { return {Kind::killed, {}, {}, {}, {}, {}}; }
  static ExitReason noproc() { return {Kind::noproc, {}, {}, {}, {}, {}}; }
  static ExitReason noconnection() { return {Kind::noconnection, {}, {}, {}, {}, {}}; }
  static ExitReason error(std::string type, std::string msg) {
    return {Kind::error, std::move(type), std::move(msg), {}, {}, {}};
  }
  static ExitReason other(Term t) { return {Kind::other, {}, {}, std::move(t), {}, {}}; }

  /// normal, shutdown and {shutdown, _} are not abnormal: OTP's rule for
  /// restarting transient children and for crash logging. (Over links only
  /// `normal` is ignored: shutdown still stops a non-trapping linked process.)
  bool is_abnormal() const {
    return kind != Kind::normal && kind != Kind::shutdown && kind != Kind::shutdown_term;
  }
  /// "normal", "shutdown", "{shutdown, 'x'}", "error ValueError: bad" ...
  std::string to_string() const;
  /// The reason as a Term, e.g. for the wire: "normal", ("error", type, msg)
  /// or ("error", type, msg, last_message, traceback), ("shutdown", detail),
  /// ("other", detail).
  Term to_term() const;
  static ExitReason from_term(const Term& t);
  /// The most of last_message and traceback kept (from_term cuts longer ones).
  static constexpr std::size_t kMaxContext = 8192;

  friend bool operator==(const ExitReason& a, const ExitReason& b) {
    return a.kind == b.kind && a.error_type == b.error_type && a.message == b.message && a.detail == b.detail;
  }
};

const char* to_string(ExitReason::Kind k);

}  // namespace noexpp
