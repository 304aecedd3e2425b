#pragma once
/// Forward declarations of the engine's public types.

namespace noexpp {
struct Pid;
class Term;
struct ExitReason;
struct Error;
struct CallOutcome;
struct From;
class GenServer;
class Node;
class NodeModule;
class EventBus;
struct LifecycleEvent;
}  // namespace noexpp
