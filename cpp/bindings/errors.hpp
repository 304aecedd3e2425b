#pragma once
// Engine errors -> the Python exception classes of noexpp.errors.
#include <pybind11/pybind11.h>

#include "noexpp/call.hpp"
#include "noexpp/error.hpp"

namespace noexpp::py {

/// Raises (throws pybind11::error_already_set) the noexpp exception for `e`.
[[noreturn]] void raise_error(const Error& e);
/// The value of `r`, or raises its error.
template <class T>
T value_or_raise(Result<T> r) {
  if (!r) raise_error(r.error());
  return std::move(r.value());
}
/// Raises the exception for a failed call to `target`.
[[noreturn]] void raise_call_failure(const CallOutcome& o, const std::string& target);
/// The exception object (not raised) for a failed call, for futures and coroutines.
pybind11::object call_failure(const CallOutcome& o, const std::string& target);
/// A Python exception's traceback as text, its innermost calls kept when it
/// is long (ExitReason::kMaxContext); "" when it has none. Needs the GIL.
std::string format_traceback(pybind11::handle type, pybind11::handle value, pybind11::handle traceback);

}  // namespace noexpp::py
