// noexpp._core: wiring only.
#include <pybind11/pybind11.h>

#include "gil_boundary.hpp"
#include "register.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "noexpp engine bindings (use the `noexpp` package, not this module)";
  noexpp::py::remember_main_thread();
  noexpp::py::register_values(m);
  noexpp::py::register_node(m);
  noexpp::py::register_process(m);
  noexpp::py::register_supervisor(m);
  noexpp::py::register_cluster(m);
  noexpp::py::register_dist(m);
  noexpp::py::register_probe_behavior();
}
