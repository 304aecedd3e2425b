#pragma once
// Python object <-> Term. Thread: GIL held.
#include <memory>

#include <pybind11/pybind11.h>

#include "noexpp/node.hpp"
#include "noexpp/term.hpp"

namespace noexpp::py {

/// Converts a message to a Term; raises TypeError naming the offending type
/// (e.g. "cannot send a value of type 'set' in a message") or ValueError for
/// an int outside int64 or nesting deeper than kMaxTermDepth.
Term to_term(pybind11::handle obj);
/// Converts a Term to Python; pids become Refs bound to `node`.
pybind11::object to_python(const Term& t, const std::shared_ptr<Node>& node);

}  // namespace noexpp::py
