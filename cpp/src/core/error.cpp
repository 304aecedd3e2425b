#include "noexpp/error.hpp"

#include "noexpp/call.hpp"

namespace noexpp {
namespace {

class CoreCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "noexpp"; }
  std::string message(int c) const override {
    switch (static_cast<Errc>(c)) {
      case Errc::ok: return "ok";
      case Errc::call_timeout: return "call timed out";
      case Errc::no_process: return "no such process";
      case Errc::process_crashed: return "process crashed";
      case Errc::no_connection: return "node unreachable (noconnection)";
      case Errc::self_call: return "a process cannot call itself";
      case Errc::node_stopped: return "node is not running";
      case Errc::message_too_large: return "message too large";
      case Errc::duplicate_name: return "name already registered";
      case Errc::behavior_not_found: return "behavior not found";
      case Errc::init_failed: return "init failed";
      case Errc::bad_term: return "value cannot be encoded or decoded";
      case Errc::invalid_argument: return "invalid argument";
      case Errc::ignored: return "init returned ignore";
      case Errc::overloaded: return "overloaded: the send queue to the node is full";
      case Errc::mailbox_full: return "the target's mailbox is full";
    }
    return "unknown error";
  }
};

}  // namespace

const std::error_category& core_category() {
  static CoreCategory c;
  return c;
}

std::error_code make_error_code(Errc e) { return {static_cast<int>(e), core_category()}; }

const char* to_string(Errc e) {
  switch (e) {
    case Errc::ok: return "ok";
    case Errc::call_timeout: return "call_timeout";
    case Errc::no_process: return "no_process";
    case Errc::process_crashed: return "process_crashed";
    case Errc::no_connection: return "no_connection";
    case Errc::self_call: return "self_call";
    case Errc::node_stopped: return "node_stopped";
    case Errc::message_too_large: return "message_too_large";
    case Errc::duplicate_name: return "duplicate_name";
    case Errc::behavior_not_found: return "behavior_not_found";
    case Errc::init_failed: return "init_failed";
    case Errc::bad_term: return "bad_term";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::ignored: return "ignored";
    case Errc::overloaded: return "overloaded";
    case Errc::mailbox_full: return "mailbox_full";
  }
  return "?";
}

std::string Error::to_string() const {
  auto s = code.message();
  if (!detail.empty()) s += ": " + detail;
  return s;
}

bool is_call_status(std::int64_t code) {
  switch (static_cast<Errc>(code)) {
    case Errc::ok: case Errc::call_timeout: case Errc::no_process: case Errc::process_crashed:
    case Errc::no_connection: case Errc::self_call: case Errc::node_stopped: case Errc::message_too_large:
      return true;
    default: return false;
  }
}

Error CallOutcome::error(const std::string& target) const {
  switch (status) {
    case Errc::ok: return Error{};
    case Errc::call_timeout: return Error{status, "call to " + target + " timed out"};
    case Errc::no_process:
      return Error{status, "no process " + target +
                               (reason.kind == ExitReason::Kind::noproc ? "" : " (it exited: " + reason.to_string() + ")")};
    case Errc::process_crashed:
      if (!detail.empty()) return Error{status, detail};
      return Error{status, target + " crashed while handling the call: " + reason.to_string()};
    case Errc::no_connection: return Error{status, "node of " + target + " is down (noconnection)"};
    case Errc::self_call: return Error{status, "process " + target + " cannot call itself"};
    case Errc::node_stopped: return Error{status, "node is not running; cannot call " + target};
    case Errc::message_too_large: return Error{status, "call to " + target + ": " + detail};
    default: return Error{status, "call to " + target + " failed" + (detail.empty() ? "" : ": " + detail)};
  }
}

}  // namespace noexpp
