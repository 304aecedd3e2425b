#include "errors.hpp"

#include "python_types.hpp"

#include "core/internal/utf8.hpp"

#include "noexpp/cluster/cluster.hpp"
#include "noexpp/sup/errors.hpp"

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

pyb::object error_class(const char* name) { return python_types().errors.attr(name); }

[[noreturn]] void raise(pyb::object exc) {
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw pyb::error_already_set();
}

/// The noexpp.errors class of a core error (nullptr: not a noexpp exception).
const char* core_error_class(Errc c) {
  switch (c) {
    case Errc::call_timeout: return "CallTimeout";
    case Errc::no_process: return "NoProcess";
    case Errc::process_crashed: return "ProcessCrashed";
    case Errc::no_connection: return "NodeDown";
    case Errc::self_call: return "CallingSelfError";
    case Errc::node_stopped: return "NodeStopped";
    case Errc::message_too_large: return "MessageTooLargeError";
    case Errc::duplicate_name: return "DuplicateNameError";
    case Errc::behavior_not_found: return "BehaviorNotFoundError";
    case Errc::init_failed: return "InitError";
    case Errc::ignored: return "Ignored";
    case Errc::overloaded: return "Overloaded";
    case Errc::mailbox_full: return "MailboxFull";
    default: return "NoexppError";
  }
}

const char* sup_error_class(sup::SupErrc c) {
  switch (c) {
    case sup::SupErrc::duplicate_child: return "DuplicateChildError";
    case sup::SupErrc::child_not_found: return "ChildNotFoundError";
    case sup::SupErrc::child_running: return "ChildRunningError";
    case sup::SupErrc::max_restarts_exceeded: return "MaxRestartsExceededError";
    case sup::SupErrc::missing_child_template: return "MissingChildTemplateError";
    case sup::SupErrc::invalid_simple_one_for_one: return "InvalidSimpleOneForOneError";
    case sup::SupErrc::supervisor_not_running: return "SupervisorNotRunning";
    case sup::SupErrc::no_available_node: return "NoAvailableNodeError";
    default: return "NoexppError";
  }
}

}  // namespace

void raise_error(const Error& e) {
  const auto& cat = e.code.category();
  const int v = e.code.value();
  const char* cls = "NoexppError";
  if (cat == core_category()) {
    if (v == static_cast<int>(Errc::bad_term)) throw pyb::type_error(e.to_string());
    if (v == static_cast<int>(Errc::invalid_argument)) throw pyb::value_error(e.to_string());
    cls = core_error_class(static_cast<Errc>(v));
  } else if (cat == sup::sup_category()) {
    cls = sup_error_class(static_cast<sup::SupErrc>(v));
  } else if (cat == cluster::cluster_category()) {
    if (v == static_cast<int>(cluster::ClusterErrc::listen_failed))
      raise(pyb::module_::import("builtins").attr("OSError")(e.detail));
    if (v == static_cast<int>(cluster::ClusterErrc::authentication_failed)) cls = "AuthenticationError";
    if (v == static_cast<int>(cluster::ClusterErrc::tls_config_failed)) cls = "TlsConfigError";
  }
  raise(error_class(cls)(e.detail.empty() ? e.to_string() : e.detail));
}

pyb::object call_failure(const CallOutcome& o, const std::string& target) {
  // The engine words the message; NoProcess and ProcessCrashed also carry the reason.
  const auto e = o.error(target);
  if (o.status == Errc::invalid_argument) return pyb::module_::import("builtins").attr("ValueError")(e.detail);
  const char* cls = core_error_class(o.status);
  if (o.status == Errc::no_process || o.status == Errc::process_crashed)
    return error_class(cls)(e.detail, pyb::cast(o.reason));
  return error_class(cls)(e.detail);
}

void raise_call_failure(const CallOutcome& o, const std::string& target) { raise(call_failure(o, target)); }

std::string format_traceback(pyb::handle type, pyb::handle value, pyb::handle traceback) {
  if (traceback.is_none() || !traceback) return {};
  try {
    static auto* format_exception = new pyb::object(pyb::module_::import("traceback").attr("format_exception"));
    std::string text = pyb::str(pyb::str("").attr("join")((*format_exception)(type, value, traceback)));
    constexpr auto kMax = ExitReason::kMaxContext;
    if (text.size() > kMax) text = "...\n" + utf8::suffix(text, kMax - 4);
    return text;
  } catch (pyb::error_already_set&) {
    return {};  // a traceback that cannot be formatted is context lost, not a second crash
  }
}

}  // namespace noexpp::py
