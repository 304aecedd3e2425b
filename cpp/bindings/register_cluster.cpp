// The cluster seen from Python: a node's cluster options, connect, members,
// node_up / node_down subscriptions, requests to other nodes, and the fault
// injection LocalCluster uses.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "errors.hpp"
#include "gil_boundary.hpp"
#include "noexpp/cluster/cluster.hpp"
#include "noexpp/node.hpp"
#include "register.hpp"
#include "term_convert.hpp"
#include "time_convert.hpp"

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

cluster::Cluster& cluster_of(Node& node) {
  auto* c = cluster::cluster_of(node);
  if (!c) raise_error(Error{Errc::no_connection, "node " + node.id() + " does not listen (created with listen=None)"});
  return *c;
}

std::chrono::milliseconds millis_from(pyb::handle seconds, const char* what) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration_from(seconds, what));
}

}  // namespace

cluster::ClusterOptions cluster_options_from(const pyb::dict& d) {
  cluster::ClusterOptions o;
  for (auto [key, value] : d) {
    const auto k = key.cast<std::string>();
    if (value.is_none()) continue;
    if (k == "cookie") o.cookie = value.cast<std::string>();
    else if (k == "cookie_file") o.cookie_file = value.cast<std::string>();
    else if (k == "seeds") o.seeds = value.cast<std::vector<std::string>>();
    else if (k == "hidden") o.hidden = value.cast<bool>();
    else if (k == "max_message_size") o.max_frame_bytes = value.cast<std::size_t>();
    else if (k == "heartbeat_interval") o.heartbeat_interval = millis_from(value, "heartbeat_interval");
    else if (k == "phi_threshold") o.phi_threshold = value.cast<double>();
    else if (k == "acceptable_pause") o.acceptable_pause = millis_from(value, "acceptable_pause");
    else if (k == "min_std_dev") o.min_std_dev = millis_from(value, "min_std_dev");
    else if (k == "reconnect_max") o.reconnect_max = millis_from(value, "reconnect_max");
    else throw pyb::value_error("unknown cluster option '" + k + "'");
  }
  return o;
}

void register_cluster(pyb::module_& m) {
  m.def("cluster_connect", [](Node& node, const std::string& id, pyb::object timeout) {
    auto& c = cluster_of(node);
    auto d = duration_from(timeout);
    auto r = without_gil([&] { return c.connect_wait(id, d); });
    if (!r) raise_error(r.error());
  });
  m.def("cluster_members", [](Node& node) {
    pyb::list out;
    auto* c = cluster::cluster_of(node);
    if (!c) return out;
    auto members = without_gil([&] { return c->members(); });
    for (auto& mi : members)
      out.append(pyb::make_tuple(mi.id, mi.status, mi.process_count, mi.since_heartbeat, mi.rtt, mi.creation));
    return out;
  });
  m.def("subscribe_membership", [](const std::shared_ptr<Node>& node, pyb::function callback) {
    auto cb = std::make_shared<GilObject>(std::move(callback));
    std::weak_ptr<Node> weak = node;
    return cluster_of(*node).events().subscribe([cb, weak](const LifecycleEvent& e) {
      auto n = weak.lock();
      if (!n) return;
      with_gil([&] {
        try {
          cb->get()(to_python(e.to_term(), n));
        } catch (pyb::error_already_set& err) {
          err.discard_as_unraisable("noexpp node_up/node_down callback");
        }
      });
    });
  });
  m.def("unsubscribe_membership", [](Node& node, std::uint64_t id) {
    if (auto* c = cluster::cluster_of(node)) c->events().unsubscribe(id);
  });
  m.def("cluster_partition", [](Node& node, const std::string& peer, bool on) { cluster_of(node).set_partitioned(peer, on); });
  m.def("cluster_delay", [](Node& node, const std::string& peer, pyb::object seconds) {
    cluster_of(node).set_delay(peer, std::chrono::duration_cast<std::chrono::microseconds>(duration_from(seconds, "delay")));
  });
  m.def("cluster_heal", [](Node& node) { cluster_of(node).heal_all(); });
  m.def("node_abort", [](Node& node) {
    without_gil([&] {
      node.abort();
      return 0;
    });
  });
  m.def("node_request", [](const std::shared_ptr<Node>& node, const std::string& id, pyb::object request, pyb::object timeout) {
    auto& c = cluster_of(*node);
    Term t = to_term(request);
    auto d = duration_from(timeout);
    auto value = value_or_raise(without_gil([&] { return c.request(id, std::move(t), d); }));
    return to_python(value, node);
  });
}

}  // namespace noexpp::py
