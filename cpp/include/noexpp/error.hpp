#pragma once
/// Error values of the engine. Inside the engine errors are values; the
/// bindings turn them into Python exceptions at the edge.
///
/// Each layer has its own error codes, one std::error_category each, so a
/// code says which layer it comes from: the core's are noexpp::Errc (here),
/// the supervisor's noexpp::sup::Errc (sup/supervisor.hpp), the cluster's
/// noexpp::cluster::Errc (cluster/cluster.hpp). An Error carries any of them.
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace noexpp {

/// The core's errors: processes, calls, names, values.
enum class Errc {
  ok = 0,
  call_timeout = 1,   ///< no reply before the deadline
  no_process,         ///< the target does not exist (or exited normally)
  process_crashed,    ///< the target exited abnormally while the call was open
  no_connection,      ///< the target's node is unreachable (noconnection)
  self_call,          ///< a process called itself
  node_stopped,       ///< the node is not running
  message_too_large,  ///< an encoded message is over the frame maximum of the route it takes
  duplicate_name,     ///< a registered name is taken
  behavior_not_found, ///< no behavior registered under that name
  init_failed,        ///< init raised, spawn failed
  bad_term,           ///< a value cannot be encoded or decoded
  invalid_argument,
  ignored,            ///< init asked to start nothing (OTP's ignore): not an error for a supervisor
  overloaded,         ///< the send queue to the target's node stayed full for the overload timeout
  mailbox_full,       ///< the target's mailbox stayed over its limit for messages from other nodes
};

/// The category of Errc, named "noexpp".
const std::error_category& core_category();
std::error_code make_error_code(Errc e);
/// "call_timeout", "no_process", ...: the code's name.
const char* to_string(Errc e);

/// An error code of any layer plus a human-readable detail naming what went wrong.
struct Error {
  std::error_code code;
  std::string detail;
  std::string to_string() const;
};

/// An Error thrown where a value cannot be returned (constructors); the
/// bindings turn it into the matching Python exception.
struct ErrorException : std::runtime_error {
  explicit ErrorException(Error e) : std::runtime_error(e.to_string()), error(std::move(e)) {}
  Error error;
};

/// A value or an Error; the engine's return type for operations that can fail.
template <class T>
class Result {
 public:
  Result(T v) : v_(std::move(v)) {}  // NOLINT: `return value;` reads well
  Result(Error e) : v_(std::move(e)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  /// By value from a temporary: `for (auto& x : f().value())` must not
  /// iterate a vector that died with its Result.
  T value() && { return std::move(std::get<0>(v_)); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace noexpp

template <>
struct std::is_error_code_enum<noexpp::Errc> : std::true_type {};
