#pragma once
/// The supervisor's errors (category "noexpp.sup").
#include <system_error>

namespace noexpp::sup {

enum class SupErrc {
  ok = 0,
  duplicate_child = 1,         ///< a supervisor already has a child with that id
  child_not_found,             ///< a supervisor has no child with that id
  child_running,               ///< restart_child/delete_child of a running child
  max_restarts_exceeded,       ///< the supervisor stopped: restart intensity exceeded
  missing_child_template,      ///< simple_one_for_one without a child template
  invalid_simple_one_for_one,  ///< simple_one_for_one with static children, or a static-child operation on it
  supervisor_not_running,      ///< the supervisor has exited
  no_available_node,           ///< a distributed supervisor's selector found no live node for a child
};

const std::error_category& sup_category();
std::error_code make_error_code(SupErrc e);

}  // namespace noexpp::sup

template <>
struct std::is_error_code_enum<noexpp::sup::SupErrc> : std::true_type {};
