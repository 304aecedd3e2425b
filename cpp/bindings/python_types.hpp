#pragma once
// The Python classes the bindings make or recognise (NoReply, Down, Exit,
// the awaitable of a call inside a handler, the exception classes). The
// noexpp package hands them over when it is imported (bind_python_types),
// so the bindings never reach up into the package by name. Thread: GIL held.
#include <pybind11/pybind11.h>

namespace noexpp::py {

struct PythonTypes {
  pybind11::object no_reply;      ///< noexpp.NoReply: handle_call replies later
  pybind11::object ignore;        ///< noexpp.Ignore: init starts nothing
  pybind11::object down;          ///< noexpp.Down(ref, reason, monitor)
  pybind11::object exit;          ///< noexpp.Exit(ref, reason)
  pybind11::object process_call;  ///< what ref.call_async returns inside a handler
  pybind11::object errors;        ///< the module of the exception classes (noexpp.errors)
};

/// The classes bound so far; raises RuntimeError if the package never bound them.
const PythonTypes& python_types();
/// _core.bind_python_types(no_reply=..., down=..., exit=..., process_call=..., errors=...).
void register_python_types(pybind11::module_& m);

}  // namespace noexpp::py
