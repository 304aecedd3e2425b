#pragma once
/// Forward declarations of the engine's core types.

namespace noexpp {
struct Pid;
class Term;
struct ExitReason;
struct Envelope;
class Mailbox;
class Process;
class GenServer;
class Node;
class Executor;
class PendingCalls;
class Registry;
struct CallOutcome;
struct From;
}  // namespace noexpp
