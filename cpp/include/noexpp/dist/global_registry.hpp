#pragma once
/// Cluster-wide names (DESIGN §6): every member keeps a replica of the
/// table name -> pid.
///
/// Registrations are decided by one member, the leader (the smallest node
/// id among the members that are up, as each node sees them), which takes
/// them in arrival order: of concurrent registrations of one name exactly one
/// wins, the same on every node. The leader then replicates the change to
/// every member. A name goes away everywhere when its process exits (its
/// node tells the others) or its node goes down (each node drops the names
/// of a node it sees go down), and a node that joins gets the whole table.
///
/// When two sides of a partition registered one name, the tables meet at the
/// heal and every node keeps the same winner: the entry whose pid is smaller
/// (node id, then incarnation, then serial). The loser receives the info
/// message ("name_conflict", name, winner) and then, by default, is stopped.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "noexpp/call.hpp"
#include "noexpp/cluster/cluster.hpp"
#include "noexpp/error.hpp"
#include "noexpp/node.hpp"
#include "noexpp/pid.hpp"

namespace noexpp {
namespace dist {

/// Longest global name, in bytes (UTF-8). Every member holds every name, and
/// a joining node receives them all in one frame.
inline constexpr std::size_t kMaxGlobalNameBytes = 1024;

/// What happens to a registered process that loses its name to another one
/// when a partition heals (it always gets the name_conflict message first).
enum class OnConflict : std::uint8_t {
  stop,    ///< it is stopped (reason {name_conflict, name})
  keep,    ///< it keeps running, without the name
  notify,  ///< it keeps running, and the node that registered it calls its conflict handler
};
const char* to_string(OnConflict c);

struct GlobalName {
  std::string name;
  Pid pid;
  OnConflict on_conflict = OnConflict::stop;
  std::string origin;  ///< the node that registered it: it applies on_conflict
};

/// A module of a node in a cluster (dist::create_node attaches it); reach it
/// with dist::global_registry(node).
class GlobalRegistry final : public NodeModule {
 public:
  GlobalRegistry(Node& node, cluster::Cluster& cluster);
  ~GlobalRegistry() override;
  const char* name() const override { return "global_registry"; }
  GlobalRegistry(const GlobalRegistry&) = delete;
  GlobalRegistry& operator=(const GlobalRegistry&) = delete;

  /// Registers `name` for `pid` cluster-wide. Errc::duplicate_name when the
  /// name is taken (by another pid), no_connection / call_timeout when the
  /// leader cannot be asked, no_process when `pid` is not alive.
  /// Thread: not the network thread.
  Result<bool> register_name(const std::string& name, Pid pid, OnConflict on_conflict,
                             Duration timeout = std::chrono::seconds(5));
  /// Removes `name` cluster-wide; ok(false) when it was not registered.
  Result<bool> unregister_name(const std::string& name, Duration timeout = std::chrono::seconds(5));
  /// This node's replica (a hidden node holds none and asks a member).
  /// Thread: any but the network thread.
  std::optional<Pid> whereis(const std::string& name) const;
  std::vector<std::string> names() const;
  std::vector<GlobalName> entries() const;

  /// Called (on an engine thread) when a name registered here with
  /// OnConflict::notify lost a conflict: (name, loser, winner).
  using ConflictHandler = std::function<void(const std::string& name, Pid loser, Pid winner)>;
  void set_conflict_handler(ConflictHandler h);

 private:
  /// The leader's decision. Thread: engine (a node request) or the caller.
  Result<bool> decide_register(const GlobalName& entry);
  Result<bool> decide_unregister(const std::string& name);
  /// Applies a replicated entry, resolving a conflict with the same rule on
  /// every node. Returns the loser, if there was a conflict.
  void merge(const GlobalName& incoming);
  void remove(const std::string& name, Pid pid);
  void forget_node(const std::string& node_id);
  void watch_if_local(const GlobalName& e);
  void lost(const GlobalName& loser, Pid winner);
  std::string leader() const;
  bool asks_a_member() const;

  Node& node_;
  cluster::Cluster& cluster_;
  std::uint64_t membership_sub_ = 0;
  mutable std::mutex mu_;
  std::unordered_map<std::string, GlobalName> table_;
  std::unordered_map<std::string, std::uint64_t> watched_;  // name -> monitor ref, for local pids
  ConflictHandler on_conflict_;
  std::mutex decide_mu_;  // the leader decides one registration at a time
};

/// The global registry of `node`, or null when it has none (a node that
/// does not listen, or one made by cluster::create_node alone). Thread: any.
GlobalRegistry* global_registry(Node& node);

}  // namespace dist
}  // namespace noexpp
