#include "noexpp/core/error.hpp"

namespace noexpp {
namespace {

class Category : public std::error_category {
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
      case Errc::duplicate_name: return "name already registered";
      case Errc::behavior_not_found: return "behavior not found";
      case Errc::init_failed: return "init failed";
      case Errc::bad_term: return "value cannot be encoded or decoded";
      case Errc::invalid_argument: return "invalid argument";
      case Errc::duplicate_child: return "child id already present";
      case Errc::child_not_found: return "no such child";
      case Errc::child_running: return "child is running";
      case Errc::max_restarts_exceeded: return "restart intensity exceeded";
      case Errc::missing_child_template: return "simple_one_for_one needs a child template";
      case Errc::invalid_simple_one_for_one: return "not allowed with simple_one_for_one";
      case Errc::supervisor_not_running: return "supervisor is not running";
      case Errc::authentication_failed: return "authentication failed";
      case Errc::message_too_large: return "message too large";
      case Errc::listen_failed: return "cannot listen";
    }
    return "unknown error";
  }
};

}  // namespace

const std::error_category& noexpp_category() {
  static Category c;
  return c;
}

std::string Error::to_string() const {
  auto s = make_error_code(code).message();
  if (!detail.empty()) s += ": " + detail;
  return s;
}

}  // namespace noexpp
