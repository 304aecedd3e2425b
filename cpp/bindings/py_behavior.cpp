#include "py_behavior.hpp"

#include <string>
#include <unordered_map>

#include "time_convert.hpp"

#include "errors.hpp"
#include "main_thread_interrupts.hpp"
#include "noexpp/node.hpp"
#include "py_types.hpp"
#include "python_types.hpp"
#include "term_convert.hpp"

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

const pyb::object& process_context_class() {
  static auto* cls = new pyb::object(pyb::module_::import("noexpp._core").attr("ProcessContext"));
  return *cls;
}

}  // namespace

PyBehavior::PyBehavior(PyObject* cls) : cls_(cls), name_(reinterpret_cast<PyTypeObject*>(cls)->tp_name) {}

PyBehavior::~PyBehavior() = default;  // GilObject drops the instance with the GIL

BehaviorFactory PyBehavior::factory_for(pyb::handle cls) {
  // The registry (or the spawn call) holds the class; this keeps it alive too.
  auto keep = std::make_shared<GilObject>(pyb::reinterpret_borrow<pyb::object>(cls));
  return [keep]() -> std::unique_ptr<GenServer> { return std::make_unique<PyBehavior>(keep->get().ptr()); };
}

void PyBehavior::begin_batch() {
  gil_.acquire();
  batch_thread_ = PyThread_get_thread_ident();
}

void PyBehavior::end_batch() {
  // An interrupt that did not land yet must not hit whatever this thread
  // runs next (another process's handler).
  if (interrupt_aimed_) PyThreadState_SetAsyncExc(batch_thread_, nullptr);
  interrupt_aimed_ = false;
  batch_thread_ = 0;
  gil_.release();
}

void PyBehavior::interrupt_abandoned_handler() {
  with_gil([&] {
    if (batch_thread_ == 0 || interrupt_aimed_) return;
    // Aimed while this process's batch holds (or waits for) the GIL on that
    // thread: end_batch, under the GIL too, takes it back if it did not land.
    interrupt_aimed_ = PyThreadState_SetAsyncExc(batch_thread_, python_types().errors.attr("ProcessKilled").ptr()) == 1;
  });
}

std::shared_ptr<Node> PyBehavior::node_ptr() const { return node().shared_from_this(); }

void PyBehavior::rethrow_python_error(pyb::error_already_set& e) {
  std::string type = pyb::str(e.type().attr("__name__"));
  std::string message = pyb::str(e.value());
  std::string traceback = format_traceback(e.type(), e.value(), e.trace());
  if (e.matches(PyExc_KeyboardInterrupt)) {
    // A second Ctrl-C broke into a handler that a blocked caller was running
    // on the main thread (main_thread_interrupts.hpp): the process crashes
    // as any interrupted code would, and the interrupt goes back to the
    // caller when the batch ends.
    interrupt_caller_after_batch();
  }
  throw HandlerError(std::move(type), message, std::move(traceback));
}

void PyBehavior::init(const Term& args) {
  try {
    auto cls = pyb::reinterpret_borrow<pyb::object>(cls_);
    auto inst = cls.attr("__new__")(cls);
    inst.attr("_ctx") = process_context_class()(pyb::cast(Ref{node_ptr(), self()}));
    instance_ = std::make_unique<GilObject>(inst);
    pyb::tuple py_args = args.is_tuple() ? to_python(args, node_ptr()) : pyb::make_tuple(to_python(args, node_ptr()));
    invoke("init", py_args, [this](pyb::object result) {
      if (result.is(python_types().ignore)) ignore();
    });
  } catch (pyb::error_already_set& e) {
    rethrow_python_error(e);
  }
}

CallReply PyBehavior::handle_call(const Term& request, const From& from) {
  // A plain handler's result is the reply now; an async handler's comes when
  // its coroutine finishes, after handle_call has returned NoReply.
  struct State {
    bool in_handler = true;
    std::optional<Term> reply;
  };
  auto state = std::make_shared<State>();
  try {
    auto node = node_ptr();
    invoke("handle_call", pyb::make_tuple(to_python(request, node), pyb::cast(Caller{node, from})),
           [state, node, from](pyb::object result) {
             if (result.is(python_types().no_reply)) return;
             if (state->in_handler)
               state->reply = to_term(result);
             else
               node->reply(from, to_term(result));
           });
  } catch (pyb::error_already_set& e) {
    rethrow_python_error(e);
  }
  state->in_handler = false;
  if (state->reply) return CallReply::reply(std::move(*state->reply));
  return CallReply::noreply();
}

void PyBehavior::handle_cast(const Term& request) {
  try {
    invoke("handle_cast", pyb::make_tuple(to_python(request, node_ptr())), [](pyb::object) {});
  } catch (pyb::error_already_set& e) {
    rethrow_python_error(e);
  }
}

void PyBehavior::handle_info(const Info& info) {
  try {
    auto node = node_ptr();
    pyb::object msg;
    switch (info.kind) {
      case Info::Kind::message: msg = to_python(info.message, node); break;
      case Info::Kind::down:
        msg = python_types().down(pyb::cast(Ref{node, info.from}), pyb::cast(info.reason), info.ref);
        break;
      case Info::Kind::exit: msg = python_types().exit(pyb::cast(Ref{node, info.from}), pyb::cast(info.reason)); break;
    }
    invoke("handle_info", pyb::make_tuple(msg), [](pyb::object) {});
  } catch (pyb::error_already_set& e) {
    rethrow_python_error(e);
  }
}

void PyBehavior::handle_continue(const Term& arg) {
  try {
    invoke("handle_continue", pyb::make_tuple(to_python(arg, node_ptr())), [](pyb::object) {});
  } catch (pyb::error_already_set& e) {
    rethrow_python_error(e);
  }
}

void PyBehavior::terminate(const ExitReason& reason) {
  if (!instance_) return;
  try {
    invoke("terminate", pyb::make_tuple(pyb::cast(reason)), [](pyb::object) {});
  } catch (pyb::error_already_set& e) {
    rethrow_python_error(e);
  }
}

void PyBehavior::invoke(const char* name, pyb::tuple args, Done done) {
  pyb::object result = instance_->get().attr(name)(*args);
  if (PyCoro_CheckExact(result.ptr()))
    drive(std::make_shared<GilObject>(std::move(result)), pyb::none(), false, std::move(done));
  else
    done(std::move(result));
}

void PyBehavior::drive(std::shared_ptr<GilObject> coro, pyb::object value, bool throw_it, Done done) {
  static const char* kBadAwait =
      "a noexpp handler can only await noexpp calls (ref.call_async); "
      "asyncio futures need an event loop the process does not have";
  for (;;) {
    pyb::object yielded;
    try {
      yielded = throw_it ? coro->get().attr("throw")(value) : coro->get().attr("send")(value);
    } catch (pyb::error_already_set& e) {
      if (!e.matches(PyExc_StopIteration)) throw;
      done(e.value().attr("value"));
      return;
    }
    if (yielded.is_none()) {  // a bare yield (asyncio.sleep(0)): just go on
      value = pyb::none();
      throw_it = false;
      continue;
    }
    if (!pyb::isinstance(yielded, python_types().process_call)) {
      value = pyb::module_::import("builtins").attr("RuntimeError")(kBadAwait);
      throw_it = true;
      continue;
    }
    Pid target;
    Term request;
    Duration timeout;
    try {
      target = yielded.attr("ref").cast<const Ref&>().pid;
      request = to_term(yielded.attr("request"));
      timeout = duration_from(yielded.attr("timeout"));
    } catch (pyb::error_already_set& e) {
      value = e.value();
      throw_it = true;
      continue;
    }
    const std::string target_name = target.to_string();
    await_call(target, std::move(request), timeout, [this, coro, done, target_name](CallOutcome o) {
      // Runs in this process (a call_done envelope), with the batch GIL held.
      try {
        if (o.ok())
          drive(coro, to_python(o.value, node_ptr()), false, done);
        else
          drive(coro, call_failure(o, target_name), true, done);
      } catch (pyb::error_already_set& e) {
        rethrow_python_error(e);
      }
    });
    return;
  }
}

}  // namespace noexpp::py
