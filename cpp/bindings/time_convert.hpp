#pragma once
// Python seconds -> engine durations and deadlines. Thread: GIL held.
#include <chrono>

#include <pybind11/pybind11.h>

#include "noexpp/behavior.hpp"

namespace noexpp::py {

/// Seconds (int/float) -> a duration; None -> kInfinity (wait forever).
/// Raises TypeError / ValueError naming `what` for anything else or a negative value.
Duration duration_from(pybind11::handle seconds, const char* what = "timeout");
/// As duration_from, as a deadline from now (time_point::max() for None).
std::chrono::steady_clock::time_point deadline_from(pybind11::handle seconds, const char* what = "timeout");

}  // namespace noexpp::py
