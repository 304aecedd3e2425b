#pragma once
/// Remote spawn (DESIGN §6): start a process on another node by the name its
/// behavior is registered under there.
#include <string>

#include "noexpp/call.hpp"
#include "noexpp/error.hpp"
#include "noexpp/node.hpp"
#include "noexpp/pid.hpp"
#include "noexpp/term.hpp"

namespace noexpp::dist {

/// Starts `behavior` (a name in the behavior registry of node `node_id`'s OS
/// process) there with `args`, registered there as `name` ("" = none), as
/// Node::spawn does locally; returns once its init has returned. A reply
/// that arrives after `timeout` stops the late child, and so does a node
/// whose answer cannot reach this one: a spawn leaves no orphan. Errors:
/// no_connection (not connected, or it went down), call_timeout, and the
/// remote node's behavior_not_found, init_failed, duplicate_name.
/// Thread: not the network thread.
Result<Pid> spawn(Node& node, const std::string& node_id, const std::string& behavior, Term args,
                  const std::string& name, Duration timeout);

}  // namespace noexpp::dist
