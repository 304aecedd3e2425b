#include "noexpp/core/envelope.hpp"

namespace noexpp {

const char* to_string(CallOutcome::Status s) {
  switch (s) {
    case CallOutcome::Status::ok: return "ok";
    case CallOutcome::Status::timeout: return "timeout";
    case CallOutcome::Status::noproc: return "noproc";
    case CallOutcome::Status::crashed: return "crashed";
    case CallOutcome::Status::noconnection: return "noconnection";
    case CallOutcome::Status::self_call: return "self_call";
    case CallOutcome::Status::node_stopped: return "node_stopped";
    case CallOutcome::Status::too_large: return "too_large";
  }
  return "?";
}

}  // namespace noexpp
