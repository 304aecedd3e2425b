#include "gil_boundary.hpp"

#include <Python.h>

#include "core/internal/node_internals.hpp"
#include "main_thread_interrupts.hpp"

namespace noexpp::py {

bool python_alive() {
#if PY_VERSION_HEX >= 0x030D0000
  return !Py_IsFinalizing();
#else
  return !_Py_IsFinalizing();
#endif
}

GilObject::~GilObject() {
  if (!python_alive()) {
    obj_.release();  // the interpreter is going away: leak rather than crash
    return;
  }
  pyb::gil_scoped_acquire acquire;
  obj_ = pyb::object();
}

void BatchGil::acquire() {
  if (held_ || !python_alive()) return;
  // An engine thread has no Python thread state of its own; without one
  // kept, every batch would create and destroy one (a fifth of a Python
  // process's cost in profiles). The first batch on such a thread keeps its
  // state for the thread's life (Python frees it at finalization).
  static thread_local bool kept = false;
  const bool new_thread = !kept && PyGILState_GetThisThreadState() == nullptr;
  held_.emplace();
  if (new_thread) {
    held_->inc_ref();
    kept = true;
  }
  // The main thread runs a batch only for a caller blocked on it ("caller
  // runs"): a Ctrl-C meanwhile is that caller's, not this process's.
  holds_interrupts_ = on_main_thread();
  if (holds_interrupts_) begin_handler_on_main_thread();
}

void BatchGil::release() {
  if (!held_) return;
  held_.reset();
  if (holds_interrupts_) end_handler_on_main_thread();
  holds_interrupts_ = false;
}

CallOutcome wait_for_outcome(Node& node, CallWaiter& waiter, std::uint64_t ref) {
  using namespace std::chrono;
  // Only the main thread runs signal handlers (PyErr_CheckSignals is a no-op
  // elsewhere), so only it needs to wake up in slices.
  const bool main_thread = on_main_thread();
  for (;;) {
    const auto slice = main_thread ? steady_clock::now() + milliseconds(100) : kNoDeadline;
    bool done = without_gil([&] {
      Executor::BlockingScope blocking(NodeInternals::executor(node));
      return waiter.wait_until(slice);
    });
    // Checked before returning an outcome too: a Ctrl-C may have hit a
    // handler this thread ran inline, and it belongs to this caller.
    if (main_thread && PyErr_CheckSignals() != 0) {
      NodeInternals::cancel_call(node, ref);
      throw pyb::error_already_set();
    }
    if (done) return waiter.take();
  }
}

void delete_node(Node* node) {
  if (python_alive() && PyGILState_Check()) {
    pyb::gil_scoped_release release;
    delete node;
  } else {
    delete node;
  }
}

}  // namespace noexpp::py
