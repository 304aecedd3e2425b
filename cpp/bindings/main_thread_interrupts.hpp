#pragma once
// Ctrl-C and "caller runs" (DESIGN §2). A caller blocked in a call on the
// main thread may run the callee's handler itself; Python runs signal
// handlers only on the main thread, so a Ctrl-C (or a Jupyter interrupt)
// would raise KeyboardInterrupt inside the callee and crash it. The
// interrupt belongs to the caller: while the main thread runs a process's
// batch, a SIGINT is held, and handed to Python when the batch ends, where
// the caller's wait (its signal check) raises it. A second SIGINT during the
// same batch is not held: a handler that never returns can still be broken
// into, as a last resort (that process then crashes with KeyboardInterrupt).

namespace noexpp::py {

/// Records the main thread by Python's ident (threading.main_thread().ident,
/// at module import, which may happen on another thread).
void remember_main_thread(unsigned long ident);
/// True on the thread that runs Python's signal handlers.
bool on_main_thread();

/// Brackets a process's batch on the main thread (nesting is counted).
/// Thread: main.
void begin_handler_on_main_thread();
void end_handler_on_main_thread();
/// A KeyboardInterrupt ended a handler: it is raised again in the caller's
/// wait once the batch is over (at once off a main-thread batch).
void interrupt_caller_after_batch();

}  // namespace noexpp::py
