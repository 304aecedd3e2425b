// Python classes for values: ExitReason, Caller, Timer.
#include <pybind11/pybind11.h>

#include "errors.hpp"
#include "py_types.hpp"
#include "register.hpp"
#include "term_convert.hpp"

namespace noexpp::py {
namespace pyb = pybind11;

ExitReason exit_reason_from_python(pyb::handle r) {
  if (pyb::isinstance<ExitReason>(r)) return r.cast<ExitReason>();
  if (pyb::isinstance<pyb::str>(r)) {
    auto s = r.cast<std::string>();
    if (s == "kill") return ExitReason::killed();
    return ExitReason::from_term(Term(s));
  }
  if (pyb::isinstance<pyb::tuple>(r)) {
    auto t = r.cast<pyb::tuple>();
    if (t.size() == 2 && pyb::isinstance<pyb::str>(t[0]) && t[0].cast<std::string>() == "shutdown")
      return ExitReason::shutdown_with(to_term(t[1]));
  }
  if (PyExceptionInstance_Check(r.ptr())) {
    auto reason = ExitReason::error(pyb::str(pyb::type::handle_of(r).attr("__name__")), pyb::str(r));
    reason.traceback = format_traceback(pyb::type::handle_of(r), r, r.attr("__traceback__"));
    return reason;
  }
  return ExitReason::other(to_term(r));
}

void register_values(pyb::module_& m) {
  pyb::class_<ExitReason>(m, "ExitReason", "Why a process exited: compares equal to its kind name "
                                           "('normal', 'shutdown', 'killed', 'noproc', 'noconnection').")
      .def_property_readonly("kind", [](const ExitReason& r) { return std::string(to_string(r.kind)); })
      .def_property_readonly("error_type", [](const ExitReason& r) -> pyb::object {
        return r.kind == ExitReason::Kind::error ? pyb::object(pyb::str(r.error_type)) : pyb::none();
      })
      .def_property_readonly("message", [](const ExitReason& r) -> pyb::object {
        return r.kind == ExitReason::Kind::error ? pyb::object(pyb::str(r.message)) : pyb::none();
      })
      .def_property_readonly("detail", [](const ExitReason& r) { return to_python(r.detail, nullptr); })
      .def_property_readonly("last_message", [](const ExitReason& r) -> pyb::object {
        return r.last_message.empty() ? pyb::none() : pyb::object(pyb::str(r.last_message));
      }, "What the process was handling when it crashed (error reasons), or None.")
      .def_property_readonly("traceback", [](const ExitReason& r) -> pyb::object {
        return r.traceback.empty() ? pyb::none() : pyb::object(pyb::str(r.traceback));
      }, "Where a Python handler raised (error reasons), as text, or None.")
      .def_property_readonly("is_abnormal", &ExitReason::is_abnormal)
      .def("__str__", &ExitReason::to_string)
      .def("__repr__", [](const ExitReason& r) { return "ExitReason(" + r.to_string() + ")"; })
      .def("__hash__", [](const ExitReason& r) { return std::hash<std::string>{}(r.to_string()); })
      .def("__eq__", [](const ExitReason& r, pyb::object other) -> bool {
        if (pyb::isinstance<ExitReason>(other)) return r == other.cast<ExitReason>();
        if (pyb::isinstance<pyb::str>(other)) {
          auto s = other.cast<std::string>();
          if (r.kind == ExitReason::Kind::other) return r.detail.is(s);
          return r.kind != ExitReason::Kind::shutdown_term && s == to_string(r.kind);
        }
        return false;
      });

  pyb::class_<Caller>(m, "Caller", "Where a call's reply goes; pass it to GenServer.reply.")
      .def("reply", [](const Caller& c, pyb::object value) { c.node->reply(c.from, to_term(value)); },
           "Sends the reply (from any process or thread).")
      .def("__repr__", [](const Caller& c) { return "<Caller " + c.from.caller.to_string() + " #" + std::to_string(c.from.ref) + ">"; });

  pyb::class_<Timer>(m, "Timer", "A timer started with send_after; cancel with cancel_timer.")
      .def("cancel", [](const Timer& t) { return t.node->cancel_timer(t.ref); })
      .def("__repr__", [](const Timer& t) { return "<Timer #" + std::to_string(t.ref.id) + ">"; });
}

}  // namespace noexpp::py
