#include "errors.hpp"

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

pyb::object error_class(const char* name) { return pyb::module_::import("noexpp.errors").attr(name); }

[[noreturn]] void raise(pyb::object exc) {
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw pyb::error_already_set();
}

}  // namespace

void raise_error(const Error& e) {
  const char* cls = "NoexppError";
  switch (e.code) {
    case Errc::call_timeout: cls = "CallTimeout"; break;
    case Errc::no_process: cls = "NoProcess"; break;
    case Errc::process_crashed: cls = "ProcessCrashed"; break;
    case Errc::no_connection: cls = "NodeDown"; break;
    case Errc::self_call: cls = "CallingSelfError"; break;
    case Errc::node_stopped: cls = "NodeStopped"; break;
    case Errc::duplicate_name: cls = "DuplicateNameError"; break;
    case Errc::behavior_not_found: cls = "BehaviorNotFoundError"; break;
    case Errc::init_failed: cls = "InitError"; break;
    case Errc::duplicate_child: cls = "DuplicateChildError"; break;
    case Errc::child_not_found: cls = "ChildNotFoundError"; break;
    case Errc::child_running: cls = "ChildRunningError"; break;
    case Errc::max_restarts_exceeded: cls = "MaxRestartsExceededError"; break;
    case Errc::missing_child_template: cls = "MissingChildTemplateError"; break;
    case Errc::invalid_simple_one_for_one: cls = "InvalidSimpleOneForOneError"; break;
    case Errc::supervisor_not_running: cls = "SupervisorNotRunning"; break;
    case Errc::authentication_failed: cls = "AuthenticationError"; break;
    case Errc::message_too_large: cls = "MessageTooLargeError"; break;
    case Errc::listen_failed: raise(pyb::module_::import("builtins").attr("OSError")(e.detail));
    case Errc::bad_term: throw pyb::type_error(e.to_string());
    case Errc::invalid_argument: throw pyb::value_error(e.to_string());
    default: break;
  }
  raise(error_class(cls)(e.detail.empty() ? e.to_string() : e.detail));
}

pyb::object call_failure(const CallOutcome& o, const std::string& target) {
  using S = CallOutcome::Status;
  switch (o.status) {
    case S::timeout: return error_class("CallTimeout")("call to " + target + " timed out");
    case S::noproc:
      return error_class("NoProcess")("no process " + target +
                                      (o.reason.kind == ExitReason::Kind::noproc ? "" : " (it exited: " + o.reason.to_string() + ")"),
                                      pyb::cast(o.reason));
    case S::crashed:
      return error_class("ProcessCrashed")(target + " crashed while handling the call: " + o.reason.to_string(),
                                           pyb::cast(o.reason));
    case S::noconnection: return error_class("NodeDown")("node of " + target + " is down (noconnection)");
    case S::self_call: return error_class("CallingSelfError")("process " + target + " cannot call itself");
    case S::node_stopped: return error_class("NodeStopped")("node is not running; cannot call " + target);
    case S::too_large:
      return error_class("MessageTooLargeError")("call to " + target + ": " + o.reason.message);
    case S::ok: break;
  }
  return error_class("NoexppError")("call failed");
}

void raise_call_failure(const CallOutcome& o, const std::string& target) { raise(call_failure(o, target)); }

}  // namespace noexpp::py
