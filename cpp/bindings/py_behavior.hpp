#pragma once
// PyBehavior: a GenServer whose callbacks are a Python class's methods.
#include <functional>
#include <memory>
#include <string>

#include <pybind11/pybind11.h>

#include "gil_boundary.hpp"
#include "noexpp/behavior.hpp"

namespace noexpp::py {

/// Runs a noexpp.GenServer subclass. The engine calls it on engine threads
/// without the GIL; begin_batch/end_batch take the GIL for one batch of
/// messages, so every callback below runs with the GIL held.
class PyBehavior final : public GenServer {
 public:
  /// `cls` is borrowed: the caller keeps it alive (the behavior registry, or
  /// the spawn call). Thread: any (does not touch Python).
  explicit PyBehavior(PyObject* cls);
  ~PyBehavior() override;

  void init(const Term& args) override;
  CallReply handle_call(const Term& request, const From& from) override;
  void handle_cast(const Term& request) override;
  void handle_info(const Info& info) override;
  void handle_continue(const Term& arg) override;
  void terminate(const ExitReason& reason) override;
  std::string behavior_name() const override { return name_; }
  void begin_batch() override;
  void end_batch() override;
  /// Raises noexpp.ProcessKilled in the thread still inside this process's
  /// Python handler, if it is (Python checks for it between bytecodes).
  void interrupt_abandoned_handler() override;

  /// The factory that makes PyBehaviors of `cls` (kept alive by the factory).
  static BehaviorFactory factory_for(pybind11::handle cls);

 private:
  using Done = std::function<void(pybind11::object)>;
  /// Calls method `name` of the instance; an async method's coroutine is
  /// driven, and `done` gets the final result (at once for plain methods).
  void invoke(const char* name, pybind11::tuple args, Done done);
  /// Advances a handler coroutine until it awaits a noexpp call (the process
  /// then waits without blocking its thread) or finishes.
  void drive(std::shared_ptr<GilObject> coro, pybind11::object value, bool throw_it, Done done);
  [[noreturn]] void rethrow_python_error(pybind11::error_already_set& e);
  std::shared_ptr<Node> node_ptr() const;

  PyObject* cls_;
  std::string name_;
  std::unique_ptr<GilObject> instance_;
  BatchGil gil_;
  // The thread inside a batch (Python's ident, 0 between batches), and
  // whether ProcessKilled was aimed at it; both read and written with the GIL.
  unsigned long batch_thread_ = 0;
  bool interrupt_aimed_ = false;
};

}  // namespace noexpp::py
