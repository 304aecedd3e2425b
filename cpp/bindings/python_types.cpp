#include "python_types.hpp"

#include <stdexcept>

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

// Leaked on purpose: it must not be released after the interpreter is gone.
PythonTypes* bound = nullptr;

}  // namespace

const PythonTypes& python_types() {
  if (!bound) throw std::runtime_error("noexpp._core is used without the noexpp package (import noexpp)");
  return *bound;
}

void register_python_types(pyb::module_& m) {
  m.def(
      "bind_python_types",
      [](pyb::object no_reply, pyb::object ignore, pyb::object down, pyb::object exit, pyb::object process_call,
         pyb::object errors) {
        if (!bound) bound = new PythonTypes();
        *bound = PythonTypes{std::move(no_reply), std::move(ignore), std::move(down), std::move(exit),
                             std::move(process_call), std::move(errors)};
      },
      pyb::kw_only(), pyb::arg("no_reply"), pyb::arg("ignore"), pyb::arg("down"), pyb::arg("exit"),
      pyb::arg("process_call"), pyb::arg("errors"), "Called once by the noexpp package: the classes the engine builds or recognises.");
}

}  // namespace noexpp::py
