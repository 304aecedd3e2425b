#pragma once
// The small C++ types the bindings expose to Python. Thread: GIL held unless noted.
#include <memory>

#include "noexpp/call.hpp"
#include "noexpp/node.hpp"

namespace noexpp::py {

/// A reference to a process: what Python users hold (noexpp.Ref).
struct Ref {
  std::shared_ptr<Node> node;  ///< the node this ref talks through
  Pid pid;
};

/// The reply address handed to handle_call (noexpp.Caller).
struct Caller {
  std::shared_ptr<Node> node;
  From from;
};

/// A timer started with send_after (noexpp.Timer).
struct Timer {
  std::shared_ptr<Node> node;
  TimerRef ref;
};

}  // namespace noexpp::py
