#include "main_thread_interrupts.hpp"

#include <Python.h>

#include <atomic>
#include <csignal>

namespace noexpp::py {
namespace {

using SignalHandler = void (*)(int);

unsigned long main_thread_id = 0;  // Python's ident of it (threading.main_thread())
int depth = 0;  // main thread only: batches it is running, nested

// Read by the signal handler (any thread): lock-free atomics only.
std::atomic<bool> holding{false};             // the main thread is inside a batch
std::atomic<bool> held{false};                // a SIGINT came meanwhile
std::atomic<SignalHandler> python_handler{nullptr};  // Python's C-level handler

extern "C" void on_sigint(int sig) {
  if (holding.load(std::memory_order_acquire) && !held.exchange(true, std::memory_order_acq_rel)) return;
  held.store(false, std::memory_order_release);  // the second one goes through
  if (SignalHandler h = python_handler.load(std::memory_order_acquire)) h(sig);
}

/// Puts on_sigint in front of Python's own SIGINT handler. Checked at every
/// batch: Python reinstalls its handler whenever a script (or asyncio.run)
/// calls signal.signal(SIGINT, ...). A handler that is not a plain one
/// (SIG_DFL, SIG_IGN, SA_SIGINFO: not Python's) is left alone.
void wrap_python_handler() {
  struct sigaction current {};
  if (sigaction(SIGINT, nullptr, &current) != 0) return;
  if (current.sa_flags & SA_SIGINFO) return;
  SignalHandler h = current.sa_handler;
  if (h == on_sigint || h == SIG_DFL || h == SIG_IGN) return;
  python_handler.store(h, std::memory_order_release);
  struct sigaction mine = current;
  mine.sa_handler = on_sigint;
  sigaction(SIGINT, &mine, nullptr);
}

}  // namespace

void remember_main_thread(unsigned long ident) { main_thread_id = ident; }

bool on_main_thread() { return main_thread_id != 0 && PyThread_get_thread_ident() == main_thread_id; }

void begin_handler_on_main_thread() {
  if (depth++ > 0) return;
  wrap_python_handler();
  holding.store(true, std::memory_order_release);
}

void end_handler_on_main_thread() {
  if (--depth > 0) return;
  holding.store(false, std::memory_order_release);
  if (!held.exchange(false, std::memory_order_acq_rel)) return;
  // As if the signal came now: Python marks it, and the caller's next
  // signal check raises KeyboardInterrupt.
  PyErr_SetInterrupt();
}

void interrupt_caller_after_batch() {
  if (on_main_thread() && depth > 0)
    held.store(true, std::memory_order_release);
  else
    PyErr_SetInterrupt();
}

}  // namespace noexpp::py
