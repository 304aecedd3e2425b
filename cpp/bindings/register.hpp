#pragma once
// One register_<area> function per file; module.cpp only wires them. The
// areas that add methods to Node get its class object.
#include <memory>

#include <pybind11/pybind11.h>

#include "noexpp/cluster/options.hpp"
#include "noexpp/exit_reason.hpp"
#include "noexpp/node.hpp"

namespace noexpp::py {

using NodeClass = pybind11::class_<Node, std::shared_ptr<Node>>;

void register_values(pybind11::module_& m);
NodeClass register_node(pybind11::module_& m);
void register_process(pybind11::module_& m);
void register_supervisor(pybind11::module_& m, NodeClass& node);
void register_cluster(pybind11::module_& m, NodeClass& node);
void register_dist(pybind11::module_& m, NodeClass& node);
void register_dist_supervisor(pybind11::module_& m, NodeClass& node);
void register_probe_behavior();
/// The cluster options of Python's Node(...) (a dict of its keyword arguments).
cluster::ClusterOptions cluster_options_from(const pybind11::dict& d);
/// str / ExitReason / ("shutdown", x) / exception instance / any term -> ExitReason.
ExitReason exit_reason_from_python(pybind11::handle r);
/// Calls `callback(event_dict)` for every event `bus` delivers from now on,
/// with the GIL; returns the subscription id. `what` names it in errors.
std::uint64_t subscribe_python(EventBus& bus, const std::shared_ptr<Node>& node, pybind11::function callback,
                               const char* what);

}  // namespace noexpp::py
