#include "dist/placement.hpp"

#include <algorithm>
#include <limits>

#include "dist/lease.hpp"
#include "dist/remote_spawn.hpp"
#include "noexpp/behavior_registry.hpp"

namespace noexpp::dist {
namespace {

Error no_node(const std::string& child_id, const NodeSelector& s, const std::string& why) {
  return Error{sup::SupErrc::no_available_node,
               "no live node for child '" + child_id + "' (node_selector " + s.describe() + "): " + why};
}

bool has(const std::vector<cluster::MemberInfo>& nodes, const std::string& id) {
  return std::any_of(nodes.begin(), nodes.end(), [&](auto& m) { return m.id == id; });
}

}  // namespace

Result<std::string> pick_node(const NodeSelector& selector, const std::vector<cluster::MemberInfo>& candidates,
                              const std::string& here, bool registered_here, const std::string& child_id,
                              std::uint64_t& turn, double unit_random) {
  if (candidates.empty()) return no_node(child_id, selector, "no candidates");
  using Kind = NodeSelector::Kind;
  switch (selector.kind) {
    case Kind::local_first: {
      if (registered_here && has(candidates, here)) return here;
      for (auto& m : candidates)
        if (m.id != here) return m.id;
      return no_node(child_id, selector, "the behavior is not registered here and no other node is up");
    }
    case Kind::round_robin: return candidates[turn++ % candidates.size()].id;
    case Kind::least_loaded: {
      // An unknown count (no heartbeat yet) ranks last; ties go by id.
      auto load = [](const cluster::MemberInfo& m) {
        return m.process_count < 0 ? std::numeric_limits<std::int64_t>::max() : m.process_count;
      };
      return std::min_element(candidates.begin(), candidates.end(),
                              [&](auto& a, auto& b) { return load(a) < load(b); })
          ->id;
    }
    case Kind::random: {
      auto i = static_cast<std::size_t>(unit_random * static_cast<double>(candidates.size()));
      return candidates[std::min(i, candidates.size() - 1)].id;
    }
    case Kind::node:
      if (has(candidates, selector.node)) return selector.node;
      return no_node(child_id, selector, "that node is not a live member");
    case Kind::custom: {
      std::string id;
      try {
        id = selector.choose(candidates, child_id);
      } catch (const std::exception& e) {
        return no_node(child_id, selector, std::string("the selector raised: ") + e.what());
      }
      if (has(candidates, id)) return id;
      return no_node(child_id, selector, "the selector chose '" + id + "', which is not a live member");
    }
  }
  return no_node(child_id, selector, "unknown selector");
}

PlacingStarter::PlacingStarter(NodeSelector selector, Duration lease, Duration start_timeout, const ChildLeases& leases,
                               std::string here)
    : leases_(leases), here_(std::move(here)), selector_(std::move(selector)), lease_(lease), start_timeout_(start_timeout) {}

std::optional<Duration> PlacingStarter::lost_with_node(Pid child, const ExitReason& reason) const {
  // A child of this node shares the supervisor's fate: never lost apart.
  if (child.is_nil() || node_name(child.node) == here_) return std::nullopt;
  // Its node said it is stopping: it exited, or its exit was cut off by
  // the goodbye that ends a graceful stop, after which nothing of it runs.
  if (leases_.leaving(child)) return Duration::zero();
  if (reason.kind == ExitReason::Kind::noconnection) return lease::reclaim_wait(lease_);
  return std::nullopt;
}

std::vector<cluster::MemberInfo> PlacingStarter::candidates(Node& node, const NodeSelector& selector) const {
  std::vector<cluster::MemberInfo> out;
  cluster::MemberInfo self;
  self.id = node.id();
  self.status = "up";
  self.creation = node.node_pid().creation;
  self.process_count = static_cast<std::int64_t>(node.process_count());
  out.push_back(self);
  auto* cluster = cluster::cluster_of(node);
  if (!cluster) return out;
  const bool details = selector.kind == NodeSelector::Kind::least_loaded || selector.kind == NodeSelector::Kind::custom;
  if (details) {
    for (auto& m : cluster->members())
      if (m.status == "up" && m.id != self.id && !leases_.node_leaving(m.id)) out.push_back(m);
  } else {
    for (auto& id : cluster->up_members()) {
      if (leases_.node_leaving(id)) continue;
      cluster::MemberInfo m;
      m.id = id;
      m.status = "up";
      out.push_back(m);
    }
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.id < b.id; });
  return out;
}

Result<sup::StartedChild> PlacingStarter::start(Node& node, const sup::ChildStart& which, const sup::ChildSpec& spec,
                                                const SpawnOptions& here) {
  const NodeSelector& selector =
      spec.placement ? *static_cast<const NodeSelector*>(spec.placement.get()) : selector_;
  const auto entry = BehaviorRegistry::instance().find(spec.behavior_name);
  const double unit = std::uniform_real_distribution<double>(0, 1)(rng_);
  auto target = pick_node(selector, candidates(node, selector), node.id(), entry.has_value(), spec.id, turn_, unit);
  if (!target) return target.error();
  if (target.value() == node.id()) {
    if (!entry)
      return Error{Errc::behavior_not_found,
                   "no behavior registered as '" + spec.behavior_name + "' on node " + node.id()};
    auto pid = node.spawn(entry->factory, spec.args, here);
    if (!pid) return pid.error();
    return sup::StartedChild{pid.value(), node.id()};
  }
  Placement p{{which.supervisor, which.key, spec.id}, which.epoch, lease_};
  auto pid = spawn_placed(node, target.value(), spec.behavior_name, spec.args, p, start_timeout_);
  if (!pid) return pid.error();
  return sup::StartedChild{pid.value(), target.value()};
}

}  // namespace noexpp::dist
