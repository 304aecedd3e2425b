// noexpp._core: wiring only.
#include <pybind11/pybind11.h>

#include "gil_boundary.hpp"
#include "main_thread_interrupts.hpp"
#include "python_types.hpp"
#include "register.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "noexpp engine bindings (use the `noexpp` package, not this module)";
  noexpp::py::remember_main_thread(
      pybind11::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>());
  noexpp::py::register_python_types(m);
  noexpp::py::register_values(m);
  auto node = noexpp::py::register_node(m);
  noexpp::py::register_process(m);
  noexpp::py::register_supervisor(m, node);
  noexpp::py::register_cluster(m, node);
  noexpp::py::register_dist(m, node);
  noexpp::py::register_dist_supervisor(m, node);
  noexpp::py::register_probe_behavior();
}
