#pragma once
// The GIL boundary: the ONLY code in noexpp that takes or releases the GIL
// (STYLE.md; a test checks that no other file does). Everything else in the
// bindings either runs with the GIL held (called from Python) or goes through
// these functions.
#include <chrono>
#include <optional>
#include <utility>

#include <pybind11/pybind11.h>

#include "noexpp/node.hpp"
#include "core/internal/pending_calls.hpp"

namespace noexpp::py {

namespace pyb = pybind11;

/// Holds a Python object in a place that may be destroyed without the GIL
/// (engine structures such as a process's awaited-call continuations).
class GilObject {
 public:
  explicit GilObject(pyb::object o) : obj_(std::move(o)) {}
  ~GilObject();
  GilObject(const GilObject&) = delete;
  GilObject& operator=(const GilObject&) = delete;
  pyb::object& get() { return obj_; }
  const pyb::object& get() const { return obj_; }

 private:
  pyb::object obj_;
};

/// True when Python can still run code (not finalizing).
bool python_alive();

/// Runs `f` with the GIL released (the caller holds it).
template <class F>
auto without_gil(F&& f) {
  pyb::gil_scoped_release release;
  return f();
}

/// Runs `f` with the GIL held, from any thread; does nothing once the
/// interpreter is finalizing. Exceptions from `f` propagate.
/// Holds the GIL for one batch of a Python process's messages (DESIGN §2:
/// taken per batch, never while waiting on anything). An engine thread keeps
/// its Python thread state between batches.
class BatchGil {
 public:
  void acquire();
  void release();

 private:
  std::optional<pyb::gil_scoped_acquire> held_;
  bool holds_interrupts_ = false;  // a batch on the main thread (main_thread_interrupts.hpp)
};

template <class F>
void with_gil(F&& f) {
  if (!python_alive()) return;
  BatchGil gil;  // released when it goes out of scope, also on an exception
  gil.acquire();
  f();
}

/// Waits (GIL released) for a call's outcome; the engine's deadline ends the
/// call, so the outcome always comes. On an engine thread a spare thread
/// stands in meanwhile. On the main thread it wakes every 100 ms to run
/// Python's signal handlers, so Ctrl-C interrupts the wait (the call is
/// abandoned and KeyboardInterrupt propagates).
CallOutcome wait_for_outcome(Node& node, CallWaiter& waiter, std::uint64_t ref);

/// Deletes a node with the GIL released (stopping joins engine threads that
/// may be waiting for the GIL).
void delete_node(Node* node);

}  // namespace noexpp::py
