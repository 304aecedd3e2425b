#pragma once
// A distributed supervisor as the child of a local one: the Python
// noexpp.ChildSpec(id, DistributedSupervisorSpec(...)) reaches the engine as
// a nested supervisor spec whose starter places its children
// (register_dist_supervisor.cpp converts it; register_supervisor.cpp asks).
#include <pybind11/pybind11.h>

#include "noexpp/sup/child_spec.hpp"

namespace noexpp::py {

/// True for a noexpp.DistributedSupervisorSpec.
bool is_distributed_supervisor_spec(pybind11::handle py);
/// Its engine form; raises the typed error of a bad spec.
sup::SupervisorSpec nested_distributed_spec_from(pybind11::handle py);

}  // namespace noexpp::py
