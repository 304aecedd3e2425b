// The distributed supervisor: the local supervisor process with a starter
// that places children on the cluster's nodes (dist/placement.hpp).
#include "noexpp/dist/distributed_supervisor.hpp"

#include "dist/lease.hpp"
#include "dist/placement.hpp"
#include "noexpp/behavior_registry.hpp"

namespace noexpp::dist {
namespace {

Error invalid(std::string what) { return Error{Errc::invalid_argument, std::move(what)}; }

Result<bool> validate(const NodeSelector& s, const std::string& whose) {
  if (s.kind == NodeSelector::Kind::node && s.node.empty()) return invalid(whose + ": {node: id} needs a node id");
  if (s.kind == NodeSelector::Kind::custom && !s.choose) return invalid(whose + ": a custom node_selector needs a function");
  return true;
}

}  // namespace

std::string NodeSelector::describe() const {
  switch (kind) {
    case Kind::local_first: return "local_first";
    case Kind::round_robin: return "round_robin";
    case Kind::least_loaded: return "least_loaded";
    case Kind::random: return "random";
    case Kind::node: return "{node: " + node + "}";
    case Kind::custom: return "custom";
  }
  return "?";
}

std::optional<NodeSelector::Kind> parse_selector(std::string_view s) {
  using Kind = NodeSelector::Kind;
  if (s == "local_first") return Kind::local_first;
  if (s == "round_robin") return Kind::round_robin;
  if (s == "least_loaded") return Kind::least_loaded;
  if (s == "random") return Kind::random;
  return std::nullopt;
}

Duration reclaim_wait(Duration lease) { return lease::reclaim_wait(lease); }

Result<sup::ChildSpec> to_child_spec(DistributedChildSpec d) {
  if (d.id.empty()) return invalid("a child needs a non-empty id");
  if (d.behavior_name.empty()) return invalid("child '" + d.id + "' needs a behavior name");
  if (d.shutdown < Duration::zero()) return invalid("child '" + d.id + "': shutdown must be >= 0");
  if (d.node_selector)
    if (auto ok = validate(*d.node_selector, "child '" + d.id + "'"); !ok) return ok.error();
  sup::ChildSpec c;
  c.id = std::move(d.id);
  c.behavior_name = d.behavior_name;
  // What the local supervisor's checks ask for; the starter looks the name
  // up itself on the node it picks (this one included).
  c.behavior = [name = std::move(d.behavior_name)]() -> std::unique_ptr<GenServer> {
    auto entry = BehaviorRegistry::instance().find(name);
    if (!entry) throw std::runtime_error("no behavior registered as '" + name + "'");
    return entry->factory();
  };
  c.args = std::move(d.args);
  c.restart = d.restart;
  c.shutdown = d.shutdown;
  c.significant = d.significant;
  c.user_data = std::move(d.user_data);
  if (d.node_selector) c.placement = std::make_shared<const NodeSelector>(std::move(*d.node_selector));
  return c;
}

Result<Pid> DistributedSupervisor::start_child(DistributedChildSpec spec, Duration timeout) {
  auto c = to_child_spec(std::move(spec));
  if (!c) return c.error();
  return sup::Supervisor::start_child(std::move(c.value()), timeout);
}

Result<Pid> DistributedSupervisor::start_child(Term extra_args, Duration timeout) {
  return sup::Supervisor::start_child(std::move(extra_args), timeout);
}

Result<sup::SupervisorSpec> to_supervisor_spec(DistributedSupervisorSpec spec) {
  if (spec.lease <= Duration::zero() || spec.lease > std::chrono::hours(24))
    return invalid("lease must be > 0 and at most a day");
  if (spec.start_timeout <= Duration::zero()) return invalid("start_timeout must be > 0");
  if (auto ok = validate(spec.node_selector, "the supervisor"); !ok) return ok.error();
  sup::SupervisorSpec s;
  s.strategy = spec.strategy;
  s.max_restarts = spec.max_restarts;
  s.within = spec.within;
  s.backoff = spec.backoff;
  s.auto_shutdown = spec.auto_shutdown;
  s.name = std::move(spec.name);
  for (auto& d : spec.children) {
    auto c = to_child_spec(std::move(d));
    if (!c) return c.error();
    s.children.push_back(std::move(c.value()));
  }
  if (spec.child_template) {
    auto c = to_child_spec(std::move(*spec.child_template));
    if (!c) return c.error();
    s.child_template = std::move(c.value());
  }
  // A fresh starter (and round-robin turn) for each run of the supervisor.
  s.starter = [selector = std::move(spec.node_selector), lease = spec.lease,
               timeout = spec.start_timeout](Node& node) -> Result<std::shared_ptr<sup::ChildStarter>> {
    const auto* leases = dynamic_cast<const ChildLeases*>(node.module("child_leases"));
    if (!cluster::cluster_of(node) || !leases)
      return invalid("node " + node.id() + " takes part in no cluster (create it with dist::create_node)");
    return std::shared_ptr<sup::ChildStarter>(
        std::make_shared<PlacingStarter>(selector, lease, timeout, *leases, node.id()));
  };
  return s;
}

Result<sup::ChildSpec> supervisor_child(std::string id, DistributedSupervisorSpec spec, sup::RestartType restart) {
  auto s = to_supervisor_spec(std::move(spec));
  if (!s) return s.error();
  sup::ChildSpec c;
  c.id = std::move(id);
  c.behavior_name = "supervisor";
  c.supervisor = std::make_shared<const sup::SupervisorSpec>(std::move(s.value()));
  c.restart = restart;
  return c;
}

Result<DistributedSupervisor> start_distributed_supervisor(const std::shared_ptr<Node>& node,
                                                           DistributedSupervisorSpec spec) {
  // The placing starter, made as the supervisor starts, refuses a node
  // without a cluster (for a nested supervisor too).
  auto s = to_supervisor_spec(std::move(spec));
  if (!s) return s.error();
  auto r = sup::start_supervisor_with(node, std::move(s.value()), nullptr);
  if (!r) return r.error();
  return DistributedSupervisor(std::move(r.value()));
}

}  // namespace noexpp::dist
