#pragma once
// One register_<area> function per file; module.cpp only wires them.
#include <pybind11/pybind11.h>

#include "noexpp/cluster/options.hpp"
#include "noexpp/exit_reason.hpp"

namespace noexpp::py {
void register_values(pybind11::module_& m);
void register_node(pybind11::module_& m);
void register_process(pybind11::module_& m);
void register_supervisor(pybind11::module_& m);
void register_cluster(pybind11::module_& m);
void register_dist(pybind11::module_& m);
/// The cluster options of Python's Node(...) (a dict of its keyword arguments).
cluster::ClusterOptions cluster_options_from(const pybind11::dict& d);
void register_probe_behavior();
/// str / ExitReason / ("shutdown", x) / exception instance / any term -> ExitReason.
ExitReason exit_reason_from_python(pybind11::handle r);
}  // namespace noexpp::py
