#include "dist/child_leases.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include "core/internal/log.hpp"
#include "dist/lease.hpp"

namespace noexpp::dist {

namespace {
constexpr const char* kLeaving = "dsup.leaving";  // payload: [pid...], the leaving node's own
/// How long an announced departure is remembered.
constexpr auto kLeavingKept = std::chrono::seconds(60);
/// An honest node announces the children it holds; more is refused.
constexpr std::size_t kMaxLeaving = 1'000'000;
}  // namespace

ChildLeases::ChildLeases(Node& node, cluster::Cluster& cluster) : node_(node), cluster_(cluster) {
  cluster_.add_message_handler(kLeaving,
                               [this](const std::string& from, const Term& payload) { on_leaving(from, payload); });
  // A node that left and is back (a new incarnation) is offered again.
  cluster_.events().subscribe([this](const LifecycleEvent& e) {
    if (e.type != "node_up" || !e.fields.is_map()) return;
    for (auto& [k, v] : e.fields.as_map().items)
      if (k.is("node") && v.is_string()) {
        std::lock_guard lk(mu_);
        leaving_nodes_.erase(v.as_string());
      }
  });
}

void ChildLeases::stopping() {
  std::map<std::string, std::vector<Term>> by_node;
  {
    std::lock_guard lk(mu_);
    for (auto& [key, h] : held_)
      if (!h.child.is_nil()) by_node[node_name(key.first.node)].emplace_back(h.child);
  }
  // Sent before any of them stops: on the same connection as their exits,
  // so each supervisor reads the notice first.
  for (auto& [node_id, pids] : by_node) cluster_.send_node_message(node_id, kLeaving, Term::list(std::move(pids)));
}

void ChildLeases::on_leaving(const std::string& from, const Term& payload) {
  if (!payload.is_list() || payload.as_list().items.size() > kMaxLeaving) {
    log().warn("ignored a malformed {} from {}", kLeaving, from);
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lk(mu_);
  std::erase_if(leaving_pids_, [&](auto& kv) { return kv.second < now; });
  std::erase_if(leaving_nodes_, [&](auto& kv) { return kv.second < now; });
  leaving_nodes_[from] = now + kLeavingKept;
  for (auto& t : payload.as_list().items)
    // Only its own processes: a node cannot announce another's.
    if (t.is_pid() && node_name(t.as_pid().node) == from) leaving_pids_[t.as_pid()] = now + kLeavingKept;
}

bool ChildLeases::leaving(Pid pid) const {
  std::lock_guard lk(mu_);
  auto it = leaving_pids_.find(pid);
  return it != leaving_pids_.end() && it->second > std::chrono::steady_clock::now();
}

bool ChildLeases::node_leaving(const std::string& node_id) const {
  std::lock_guard lk(mu_);
  auto it = leaving_nodes_.find(node_id);
  return it != leaving_nodes_.end() && it->second > std::chrono::steady_clock::now();
}

ChildLeases::~ChildLeases() { stop(false); }

void ChildLeases::start() {
  std::lock_guard lk(mu_);
  stopping_ = false;
  if (!checker_.joinable()) checker_ = std::thread([this] { run(); });
}

void ChildLeases::stop(bool) {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (checker_.joinable()) checker_.join();
}

Result<bool> ChildLeases::admit(const ChildOf& c, std::uint64_t epoch) {
  Pid older;
  {
    std::lock_guard lk(mu_);
    auto [it, fresh] = held_.try_emplace(Key{c.supervisor, c.key});
    if (!fresh && it->second.epoch >= epoch)
      return Error{Errc::invalid_argument, "stale start of child '" + c.id + "' of supervisor " +
                                               c.supervisor.to_string() + ": epoch " + std::to_string(epoch) +
                                               ", and epoch " + std::to_string(it->second.epoch) + " is held here"};
    older = it->second.child;
    it->second = Held{c.id, epoch, Pid{}, Duration::zero(), 0};
  }
  if (!older.is_nil()) {
    log().warn("child '{}' of supervisor {}: a copy of an older epoch was still here; killed", c.id,
               c.supervisor.to_string());
    node_.kill(older);
  }
  return true;
}

void ChildLeases::hold(const ChildOf& c, std::uint64_t epoch, Pid child, Duration lease) {
  const auto link = cluster_.peer_link(node_name(c.supervisor.node));
  const Key key{c.supervisor, c.key};
  {
    std::lock_guard lk(mu_);
    auto it = held_.find(key);
    if (link && it != held_.end() && it->second.epoch == epoch) {
      it->second.child = child;
      it->second.lease = lease;
      it->second.connection = link->connection;
      cv_.notify_all();
      child = Pid{};  // held
    }
  }
  if (!child.is_nil()) {
    // Its supervisor's node is gone already, or a newer start took over.
    node_.kill(child);
    return;
  }
  // Released when it exits, whatever the reason (this runs once).
  node_.monitor(child, [this, key](Pid pid, const ExitReason&) { released(key, pid); });
}

void ChildLeases::abandon(const ChildOf& c, std::uint64_t epoch) {
  std::lock_guard lk(mu_);
  if (auto it = held_.find(Key{c.supervisor, c.key}); it != held_.end() && it->second.epoch == epoch && it->second.child.is_nil())
    held_.erase(it);
}

void ChildLeases::released(const Key& key, Pid child) {
  std::lock_guard lk(mu_);
  // Forgotten with its exit, so that the table holds running children only
  // (a late start of an old epoch is stopped by remote spawn's own cancel).
  if (auto it = held_.find(key); it != held_.end() && it->second.child == child) held_.erase(it);
}

std::size_t ChildLeases::held() const {
  std::lock_guard lk(mu_);
  std::size_t n = 0;
  for (auto& [key, h] : held_) n += h.child.is_nil() ? 0 : 1;
  return n;
}

std::vector<ChildLeases::Expired> ChildLeases::take_expired() {
  std::vector<Expired> out;
  const auto now = std::chrono::steady_clock::now();
  for (auto it = held_.begin(); it != held_.end();) {
    const Held& h = it->second;
    const auto link = cluster_.peer_link(node_name(it->first.first.node));
    const bool lost = !link || link->connection != h.connection;
    const bool silent = !lost && now - link->last_frame > h.lease;
    if (h.child.is_nil() || (!lost && !silent)) {
      ++it;
      continue;
    }
    out.push_back({it->first, h, silent});
    it = held_.erase(it);
  }
  return out;
}

void ChildLeases::run() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    // Asleep while nothing is held: an idle node spends nothing on leases.
    const bool any = std::any_of(held_.begin(), held_.end(), [](auto& kv) { return !kv.second.child.is_nil(); });
    if (!any)
      cv_.wait(lk);
    else
      cv_.wait_for(lk, lease::kCheckEvery);
    if (stopping_) break;
    auto expired = take_expired();
    if (expired.empty()) continue;
    lk.unlock();
    std::set<std::string> silent_nodes;
    for (auto& [key, h, silent] : expired)
      if (silent) silent_nodes.insert(node_name(key.first.node));
    // A node silent for a whole lease is gone for this one: the connection
    // is closed first, so that the supervisor learns of the loss as a node
    // down (noconnection, then the reclaim wait) however the silence ends,
    // and no exit of a killed child can reach it as a crash.
    for (auto& id : silent_nodes) cluster_.disconnect(id, "its supervisor lease expired (no frame within the lease)");
    for (auto& [key, h, silent] : expired) {
      log().warn("child '{}' ({}) of supervisor {} killed: its lease from node {} ended ({})", h.id,
                 h.child.to_string(), key.first.to_string(), node_name(key.first.node),
                 silent ? "no frame for " +
                              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(h.lease).count()) +
                              " ms"
                        : std::string("the connection was lost"));
      node_.kill(h.child);
    }
    lk.lock();
  }
}

}  // namespace noexpp::dist
