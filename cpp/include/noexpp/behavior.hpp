#pragma once
/// GenServer: the behavior a process runs (DESIGN §4). C++ behaviors derive
/// from it directly; Python behaviors run through the bindings' PyBehavior.
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "noexpp/call.hpp"
#include "noexpp/fwd.hpp"
#include "noexpp/exit_reason.hpp"
#include "noexpp/pid.hpp"
#include "noexpp/term.hpp"

namespace noexpp {

class Process;  // the engine's (private): runs a GenServer

/// An error raised by a behavior written in another language (Python), with
/// that language's exception type name, so exit reasons name the real type,
/// and its traceback as text (empty if it has none).
class HandlerError : public std::runtime_error {
 public:
  HandlerError(std::string type, const std::string& message, std::string traceback = {})
      : std::runtime_error(message), type_(std::move(type)), traceback_(std::move(traceback)) {}
  const std::string& type() const { return type_; }
  const std::string& traceback() const { return traceback_; }

 private:
  std::string type_;
  std::string traceback_;
};

/// What handle_call returns: a reply now, or none yet (reply later with
/// GenServer::reply, possibly from another process).
class CallReply {
 public:
  static CallReply reply(Term t) { return CallReply(std::move(t)); }
  static CallReply noreply() { return CallReply(); }
  CallReply(Term t) : value_(std::move(t)) {}  // NOLINT: `return Term(..)` reads well
  bool has_value() const { return value_.has_value(); }
  Term& value() { return *value_; }

 private:
  CallReply() = default;
  std::optional<Term> value_;
};

/// A message for handle_info: a plain message, a monitor's DOWN, or a trapped
/// EXIT from a linked process.
struct Info {
  enum class Kind : std::uint8_t { message, down, exit };
  Kind kind = Kind::message;
  Term message;        ///< message
  Pid from;            ///< down/exit: the process that exited
  std::uint64_t ref = 0;  ///< down: the monitor reference
  ExitReason reason;   ///< down/exit
};

/// A handle on a timer started with send_after.
struct TimerRef {
  std::uint64_t id = 0;
};

class GenServer {
 public:
  virtual ~GenServer() = default;

  /// Called once in the new process; throwing makes spawn fail, ignore()
  /// starts nothing.
  virtual void init(const Term& args) { (void)args; }
  /// The defaults are OTP's missing callbacks: a call, cast or continue the
  /// behavior does not handle crashes it (UndefinedCallbackError, naming the
  /// method); an info message it does not handle is logged as a warning (at
  /// most ten a second per process) and dropped.
  virtual CallReply handle_call(const Term& request, const From& from);
  virtual void handle_cast(const Term& request);
  virtual void handle_info(const Info& info);
  virtual void handle_continue(const Term& arg);
  virtual void terminate(const ExitReason& reason) { (void)reason; }
  /// The behavior's name for logs and process listings.
  virtual std::string behavior_name() const { return "cpp"; }

  /// The behavior whose handler runs on this thread, or null outside any
  /// handler. Thread: any.
  static GenServer* current();

  // ---- helpers for use inside handlers (Thread: the process's own run) ----
  Pid self() const;
  Node& node() const;
  void reply(const From& to, Term value);
  void send(Pid to, Term message);
  void cast(Pid to, Term request);
  TimerRef send_after(Duration delay, Term message);
  bool cancel_timer(TimerRef t);
  /// Stops this process with `reason` after the current handler returns.
  void stop(ExitReason reason = ExitReason::normal());
  /// From init: start nothing, as OTP's `ignore`: spawn answers
  /// Errc::ignored, a supervisor keeps the child as not running.
  void ignore();
  /// Logs (at most ten a second per process) and drops a message the
  /// behavior does not handle: what handle_info does by default.
  void drop_unexpected(const std::string& what);
  /// Runs handle_continue(arg) right after the current handler, before any message.
  void continue_with(Term arg);
  std::uint64_t monitor(Pid target);
  void demonitor(Pid target, std::uint64_t ref);
  void link(Pid other);
  void unlink(Pid other);
  void trap_exit(bool on);
  /// Calls `to` without blocking this thread: the process handles no ordinary
  /// message until `done` has run (in this process, like a handler). If the
  /// process exits first, `done` is dropped and `frame` (the coroutine that
  /// awaits, if any) is destroyed.
  void await_call(Pid to, Term request, Duration timeout,
                  std::function<void(CallOutcome)> done, std::coroutine_handle<> frame = {});

  /// Awaitable form of await_call for C++20 coroutines (see Task).
  struct [[nodiscard("co_await it: without co_await no call is made")]] CallAwaiter {
    GenServer* self;
    Pid to;
    Term request;
    Duration timeout;
    CallOutcome outcome;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      self->await_call(
          to, std::move(request), timeout,
          [this, h](CallOutcome o) {
            outcome = std::move(o);
            h.resume();
          },
          h);
    }
    CallOutcome await_resume() { return std::move(outcome); }
  };
  [[nodiscard]] CallAwaiter call(Pid to, Term request, Duration timeout = kDefaultCallTimeout) {
    return CallAwaiter{this, to, std::move(request), timeout, {}};
  }

  // Hooks for behaviors that need per-batch set-up (PyBehavior holds the GIL
  // for one batch of messages). Thread: the process's own run.
  virtual void begin_batch() {}
  virtual void end_batch() {}
  /// The process was killed while a handler ran: it is dead for everyone,
  /// and the thread still inside the handler is abandoned. A behavior that
  /// can cut that handler short does so here (PyBehavior raises an
  /// asynchronous exception into its Python code); the default does
  /// nothing. Thread: an engine thread other than the handler's, which may
  /// have left the handler (or this process's batch) meanwhile.
  virtual void interrupt_abandoned_handler() {}

 private:
  friend class Process;
  Process* process_ = nullptr;
};

/// A fire-and-forget coroutine run by a process. While it is suspended on
/// `co_await call(...)` the process handles no ordinary message, but its engine
/// thread is free. An exception escaping it crashes the process.
struct Task {
  struct promise_type {
    Task get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept;
  };
};

/// Makes a fresh behavior instance (one per spawn or restart).
using BehaviorFactory = std::function<std::unique_ptr<GenServer>()>;

}  // namespace noexpp
