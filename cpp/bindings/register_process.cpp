// ProcessContext: what a Python behavior's helpers (self.send_after, ...) use.
#include <pybind11/pybind11.h>

#include "noexpp/node.hpp"
#include "py_types.hpp"
#include "register.hpp"
#include "term_convert.hpp"
#include "time_convert.hpp"

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

struct ProcessContext {
  Ref ref;
  /// The behavior, but only from the process's own handlers: its state is
  /// not safe to touch from elsewhere.
  GenServer& own() const {
    auto* cur = GenServer::current();
    if (!cur || cur->self() != ref.pid)
      throw std::runtime_error("this helper can only be used inside the process's own handlers (" +
                               ref.pid.to_string() + ")");
    return *cur;
  }
};

}  // namespace

void register_process(pyb::module_& m) {
  pyb::class_<ProcessContext>(m, "ProcessContext")
      .def(pyb::init([](Ref r) { return ProcessContext{std::move(r)}; }))
      .def_property_readonly("ref", [](const ProcessContext& c) { return c.ref; })
      .def_property_readonly("node", [](const ProcessContext& c) { return c.ref.node; })
      .def("send_after",
           [](const ProcessContext& c, pyb::object delay, pyb::object msg) {
             if (delay.is_none()) throw pyb::type_error("delay must be a number of seconds, not None");
             return Timer{c.ref.node, c.own().send_after(duration_from(delay, "delay"), to_term(msg))};
           })
      .def("cancel_timer", [](const ProcessContext& c, const Timer& t) { return c.own().cancel_timer(t.ref); })
      .def("stop", [](const ProcessContext& c, pyb::object reason) { c.own().stop(exit_reason_from_python(reason)); })
      .def("continue_with", [](const ProcessContext& c, pyb::object arg) { c.own().continue_with(to_term(arg)); })
      .def("monitor", [](const ProcessContext& c, const Ref& target) { return c.own().monitor(target.pid); })
      .def("demonitor", [](const ProcessContext& c, const Ref& target, std::uint64_t ref) { c.own().demonitor(target.pid, ref); })
      .def("link", [](const ProcessContext& c, const Ref& other) { c.own().link(other.pid); })
      .def("unlink", [](const ProcessContext& c, const Ref& other) { c.own().unlink(other.pid); })
      .def("trap_exit", [](const ProcessContext& c, bool on) { c.own().trap_exit(on); })
      .def("drop_unexpected", [](const ProcessContext& c, const std::string& what) { c.own().drop_unexpected(what); });

  m.def("in_process", [] { return GenServer::current() != nullptr; },
        "True inside a process's handler (there, call_async returns a process awaitable).");
}

}  // namespace noexpp::py
