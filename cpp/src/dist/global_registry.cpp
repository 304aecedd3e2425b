#include "noexpp/dist/global_registry.hpp"

#include <algorithm>
#include <tuple>

#include "core/internal/log.hpp"
#include "core/internal/node_internals.hpp"

namespace noexpp::dist {
namespace {

// Node requests (to the leader) and node messages (replication).
constexpr const char* kRegister = "global.register";
constexpr const char* kUnregister = "global.unregister";
constexpr const char* kWhereis = "global.whereis";  // for hidden nodes, which hold no replica
constexpr const char* kNames = "global.names";
constexpr const char* kAdd = "global.add";        // payload: entry
constexpr const char* kRemove = "global.remove";  // payload: (name, pid)
constexpr const char* kSync = "global.sync";      // payload: [entry...]

Term entry_term(const GlobalName& e) {
  return Term::tuple({Term(e.name), Term(e.pid), Term(static_cast<std::int64_t>(e.on_conflict)), Term(e.origin)});
}

std::optional<GlobalName> entry_from(const Term& t) {
  if (!t.is_tuple() || t.as_tuple().items.size() != 4) return std::nullopt;
  const auto& i = t.as_tuple().items;
  if (!i[0].is_string() || !i[1].is_pid() || !i[2].is_int() || !i[3].is_string()) return std::nullopt;
  if (i[0].as_string().empty() || i[0].as_string().size() > kMaxGlobalNameBytes) return std::nullopt;
  const auto c = i[2].as_int();
  if (c < 0 || c > static_cast<std::int64_t>(OnConflict::notify)) return std::nullopt;
  return GlobalName{i[0].as_string(), i[1].as_pid(), static_cast<OnConflict>(c), i[3].as_string()};
}

/// The rule every node applies to two claims on one name: the smaller pid
/// (node id, then incarnation, then serial) keeps it.
bool wins_over(Pid a, Pid b) {
  return std::forward_as_tuple(node_name(a.node), a.creation, a.serial) <
         std::forward_as_tuple(node_name(b.node), b.creation, b.serial);
}

}  // namespace

const char* to_string(OnConflict c) {
  switch (c) {
    case OnConflict::stop: return "stop";
    case OnConflict::keep: return "keep";
    case OnConflict::notify: return "notify";
  }
  return "?";
}

GlobalRegistry::GlobalRegistry(Node& node, cluster::Cluster& cluster) : node_(node), cluster_(cluster) {
  cluster_.add_request_handler(kRegister, [this](const Term& r) -> cluster::RequestAnswer {
    auto e = entry_from(r.at(1));
    if (!e) return Error{Errc::invalid_argument, "malformed global registration"};
    auto d = decide_register(*e);
    if (!d) return d.error();
    return Term(d.value());
  });
  cluster_.add_request_handler(kUnregister, [this](const Term& r) -> cluster::RequestAnswer {
    if (!r.at(1).is_string()) return Error{Errc::invalid_argument, "malformed global unregistration"};
    auto d = decide_unregister(r.at(1).as_string());
    if (!d) return d.error();
    return Term(d.value());
  });
  cluster_.add_request_handler(kWhereis, [this](const Term& r) -> cluster::RequestAnswer {
    if (!r.at(1).is_string()) return Error{Errc::invalid_argument, "malformed global whereis"};
    auto p = whereis(r.at(1).as_string());
    return p ? Term(*p) : Term();
  });
  cluster_.add_request_handler(kNames, [this](const Term&) -> cluster::RequestAnswer {
    std::vector<Term> out;
    for (auto& n : names()) out.emplace_back(n);
    return Term::list(std::move(out));
  });
  cluster_.add_message_handler(kAdd, [this](const std::string&, const Term& p) {
    if (auto e = entry_from(p)) merge(*e);
  });
  cluster_.add_message_handler(kRemove, [this](const std::string&, const Term& p) {
    if (p.at(0).is_string() && p.at(1).is_pid()) remove(p.at(0).as_string(), p.at(1).as_pid());
  });
  cluster_.add_message_handler(kSync, [this](const std::string&, const Term& p) {
    if (!p.is_list()) return;
    for (auto& t : p.as_list().items)
      if (auto e = entry_from(t)) merge(*e);
  });
  // A node that comes up gets our table; a node that goes down takes its names.
  membership_sub_ = cluster_.events().subscribe([this](const LifecycleEvent& ev) {
    std::string peer;
    if (ev.fields.is_map())
      for (auto& [k, v] : ev.fields.as_map().items)
        if (k.is("node") && v.is_string()) peer = v.as_string();
    if (peer.empty()) return;
    if (ev.type == "node_down") {
      forget_node(peer);
    } else if (ev.type == "node_up") {
      std::vector<Term> all;
      for (auto& e : entries()) all.push_back(entry_term(e));
      cluster_.send_node_message(peer, kSync, Term::list(std::move(all)));
    }
  });
}

GlobalRegistry::~GlobalRegistry() { cluster_.events().unsubscribe(membership_sub_); }

std::string GlobalRegistry::leader() const {
  // A hidden node (a tool) never decides: the members do.
  const auto members = cluster_.up_members();
  if (cluster_.options().hidden && !members.empty()) return *std::min_element(members.begin(), members.end());
  std::string best = node_.id();
  for (auto& id : members) best = std::min(best, id);
  return best;
}

Result<bool> GlobalRegistry::register_name(const std::string& name, Pid pid, OnConflict on_conflict, Duration timeout) {
  if (name.empty()) return Error{Errc::invalid_argument, "a global name must be a non-empty string"};
  // Every replica holds every name: one that could not travel (or would
  // weigh on every sync) is refused here, before any node takes it.
  if (name.size() > kMaxGlobalNameBytes)
    return Error{Errc::invalid_argument, "a global name is at most " + std::to_string(kMaxGlobalNameBytes) +
                                             " bytes (UTF-8), got " + std::to_string(name.size())};
  if (pid.is_nil() || pid.is_node_itself()) return Error{Errc::invalid_argument, "a global name needs a process"};
  if (node_.is_local(pid) && !node_.alive(pid)) return Error{Errc::no_process, "no process " + pid.to_string()};
  const GlobalName entry{name, pid, on_conflict, node_.id()};
  const auto lead = leader();
  if (lead == node_.id()) return decide_register(entry);
  // The leader replicates before it answers, on the same connection: by the
  // time the answer is read here, so is the change. (Applying it here again
  // would race a later change the leader made meanwhile.)
  auto r = cluster_.request(lead, Term::tuple({Term(kRegister), entry_term(entry)}), timeout);
  if (!r) return r.error();
  return true;
}

Result<bool> GlobalRegistry::decide_register(const GlobalName& entry) {
  std::lock_guard decide(decide_mu_);
  {
    std::lock_guard lk(mu_);
    auto it = table_.find(entry.name);
    if (it != table_.end() && it->second.pid != entry.pid)
      return Error{Errc::duplicate_name, "global name '" + entry.name + "' is already registered to " +
                                             it->second.pid.to_string()};
  }
  merge(entry);
  cluster_.broadcast_node_message(kAdd, entry_term(entry));
  return true;
}

Result<bool> GlobalRegistry::unregister_name(const std::string& name, Duration timeout) {
  const auto lead = leader();
  if (lead == node_.id()) return decide_unregister(name);
  auto r = cluster_.request(lead, Term::tuple({Term(kUnregister), Term(name)}), timeout);
  if (!r) return r.error();
  return r.value().is_bool() && r.value().as_bool();
}

Result<bool> GlobalRegistry::decide_unregister(const std::string& name) {
  std::lock_guard decide(decide_mu_);
  auto pid = whereis(name);
  if (!pid) return false;
  remove(name, *pid);
  cluster_.broadcast_node_message(kRemove, Term::tuple({Term(name), Term(*pid)}));
  return true;
}

void GlobalRegistry::merge(const GlobalName& incoming) {
  // Names of processes on nodes this one does not see up are stale news
  // (their node went down here): the node itself re-announces them.
  const Pid pid = incoming.pid;
  if (!node_.is_local(pid)) {
    auto np = cluster_.node_pid(node_name(pid.node));
    if (!np || np->creation != pid.creation) return;
  } else if (!node_.alive(pid)) {
    return;
  }
  std::optional<GlobalName> loser;
  bool added = false;
  {
    std::lock_guard lk(mu_);
    auto it = table_.find(incoming.name);
    if (it == table_.end()) {
      table_.emplace(incoming.name, incoming);
      added = true;
    } else if (it->second.pid != pid) {
      if (wins_over(pid, it->second.pid)) {
        loser = it->second;
        it->second = incoming;
        added = true;
      } else {
        loser = incoming;
      }
    }
  }
  if (added) watch_if_local(incoming);
  if (loser) lost(*loser, loser->pid == pid ? whereis(incoming.name).value_or(Pid{}) : pid);
}

void GlobalRegistry::lost(const GlobalName& loser, Pid winner) {
  std::optional<std::uint64_t> watch;
  {
    std::lock_guard lk(mu_);
    if (auto w = watched_.find(loser.name); w != watched_.end() && node_.is_local(loser.pid)) {
      watch = w->second;
      watched_.erase(w);
    }
  }
  if (watch) node_.demonitor(loser.pid, *watch);
  // Every node resolves the conflict the same way; the node that made the
  // losing registration tells its process.
  if (loser.origin != node_.id()) return;
  log().warn("node {}: global name '{}' conflict: {} keeps it, {} loses it ({})", node_.id(), loser.name,
             winner.to_string(), loser.pid.to_string(), to_string(loser.on_conflict));
  node_.send(loser.pid, Term::tuple({Term("name_conflict"), Term(loser.name), Term(winner)}));
  if (loser.on_conflict == OnConflict::stop) {
    // Handled in mailbox order: after the message.
    node_.stop_async(loser.pid, ExitReason::other(Term::tuple({Term("name_conflict"), Term(loser.name)})));
  } else if (loser.on_conflict == OnConflict::notify) {
    ConflictHandler h;
    {
      std::lock_guard lk(mu_);
      h = on_conflict_;
    }
    if (h) NodeInternals::executor(node_).post([h, name = loser.name, l = loser.pid, winner] { h(name, l, winner); });
  }
}

void GlobalRegistry::watch_if_local(const GlobalName& e) {
  if (!node_.is_local(e.pid)) return;
  const auto ref = node_.monitor(e.pid, [this, name = e.name](Pid pid, const ExitReason&) {
    remove(name, pid);
    cluster_.broadcast_node_message(kRemove, Term::tuple({Term(name), Term(pid)}));
  });
  std::lock_guard lk(mu_);
  watched_[e.name] = ref;
}

void GlobalRegistry::remove(const std::string& name, Pid pid) {
  std::optional<std::uint64_t> watch;
  {
    std::lock_guard lk(mu_);
    auto it = table_.find(name);
    if (it == table_.end() || it->second.pid != pid) return;
    table_.erase(it);
    if (auto w = watched_.find(name); w != watched_.end()) {
      watch = w->second;
      watched_.erase(w);
    }
  }
  if (watch && node_.is_local(pid)) node_.demonitor(pid, *watch);
}

void GlobalRegistry::forget_node(const std::string& node_id) {
  const auto index = intern_node_name(node_id);
  std::lock_guard lk(mu_);
  std::erase_if(table_, [&](const auto& kv) { return kv.second.pid.node == index; });
}

bool GlobalRegistry::asks_a_member() const {
  return cluster_.options().hidden && !cluster_.up_members().empty();
}

std::optional<Pid> GlobalRegistry::whereis(const std::string& name) const {
  if (asks_a_member()) {
    auto r = cluster_.request(leader(), Term::tuple({Term(kWhereis), Term(name)}), std::chrono::seconds(5));
    if (r && r.value().is_pid()) return r.value().as_pid();
    return std::nullopt;
  }
  std::lock_guard lk(mu_);
  auto it = table_.find(name);
  if (it == table_.end()) return std::nullopt;
  return it->second.pid;
}

std::vector<std::string> GlobalRegistry::names() const {
  std::vector<std::string> out;
  if (asks_a_member()) {
    auto r = cluster_.request(leader(), Term::tuple({Term(kNames)}), std::chrono::seconds(5));
    if (r && r.value().is_list())
      for (auto& t : r.value().as_list().items)
        if (t.is_string()) out.push_back(t.as_string());
    return out;
  }
  {
    std::lock_guard lk(mu_);
    for (auto& [name, e] : table_) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<GlobalName> GlobalRegistry::entries() const {
  std::lock_guard lk(mu_);
  std::vector<GlobalName> out;
  for (auto& [name, e] : table_) out.push_back(e);
  return out;
}

void GlobalRegistry::set_conflict_handler(ConflictHandler h) {
  std::lock_guard lk(mu_);
  on_conflict_ = std::move(h);
}

GlobalRegistry* global_registry(Node& node) { return dynamic_cast<GlobalRegistry*>(node.module("global_registry")); }

}  // namespace noexpp::dist
