#include "noexpp/sup/errors.hpp"

#include <string>

namespace noexpp::sup {
namespace {

class SupCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "noexpp.sup"; }
  std::string message(int c) const override {
    switch (static_cast<SupErrc>(c)) {
      case SupErrc::ok: return "ok";
      case SupErrc::duplicate_child: return "child id already present";
      case SupErrc::child_not_found: return "no such child";
      case SupErrc::child_running: return "child is running";
      case SupErrc::max_restarts_exceeded: return "restart intensity exceeded";
      case SupErrc::missing_child_template: return "simple_one_for_one needs a child template";
      case SupErrc::invalid_simple_one_for_one: return "not allowed with simple_one_for_one";
      case SupErrc::supervisor_not_running: return "supervisor is not running";
      case SupErrc::no_available_node: return "no live node for the child";
    }
    return "unknown error";
  }
};

}  // namespace

const std::error_category& sup_category() {
  static SupCategory c;
  return c;
}

std::error_code make_error_code(SupErrc e) { return {static_cast<int>(e), sup_category()}; }

}  // namespace noexpp::sup
