#pragma once
/// Error values of the engine. Inside the engine errors are values; the
/// bindings turn them into Python exceptions at the edge.
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace noexpp {

enum class Errc {
  ok = 0,
  call_timeout = 1,      ///< no reply before the deadline
  no_process,            ///< the target does not exist (or exited normally)
  process_crashed,       ///< the target exited abnormally while the call was open
  no_connection,         ///< the target's node is down
  self_call,             ///< a process called itself
  node_stopped,          ///< the node is not running
  duplicate_name,        ///< a registered name is taken
  behavior_not_found,    ///< no behavior registered under that name
  init_failed,           ///< init raised, spawn failed
  bad_term,              ///< a value cannot be encoded or decoded
  invalid_argument,
  // Supervision (sup/).
  duplicate_child,            ///< a supervisor already has a child with that id
  child_not_found,            ///< a supervisor has no child with that id
  child_running,              ///< restart_child/delete_child of a running child
  max_restarts_exceeded,      ///< the supervisor stopped: restart intensity exceeded
  missing_child_template,     ///< simple_one_for_one without a child template
  invalid_simple_one_for_one, ///< simple_one_for_one with static children, or a static-child operation on it
  supervisor_not_running,     ///< the supervisor has exited
  // Cluster (cluster/).
  authentication_failed,      ///< a peer's cookie or protocol version did not match
  message_too_large,          ///< an encoded message is over the configured frame maximum
  listen_failed,              ///< the node could not listen on its address
};

const std::error_category& noexpp_category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), noexpp_category()}; }

/// An error code plus a human-readable detail naming what went wrong.
struct Error {
  Errc code = Errc::ok;
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
  Result(T v) : v_(std::move(v)) {}
  Result(Error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace noexpp

template <>
struct std::is_error_code_enum<noexpp::Errc> : std::true_type {};
