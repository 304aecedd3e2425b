// The cluster seen from Python: a node's cluster options, and _core.Cluster
// (Node.cluster): connect, members, node_up / node_down subscriptions,
// requests to other nodes, and the fault injection LocalCluster uses.
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

/// A node's cluster as Python holds it: keeps the node (which owns the
/// cluster) alive, and turns pids of answers into Refs through it.
struct ClusterHandle {
  std::shared_ptr<Node> node;
  cluster::Cluster* cluster;
};

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
    else if (k == "max_send_queue") o.max_send_queue_bytes = value.cast<std::size_t>();
    else if (k == "remote_mailbox_limit") o.remote_mailbox_limit = value.cast<std::size_t>();
    else if (k == "overload_timeout") o.overload_timeout = millis_from(value, "overload_timeout");
    else if (k == "heartbeat_interval") o.heartbeat_interval = millis_from(value, "heartbeat_interval");
    else if (k == "phi_threshold") o.phi_threshold = value.cast<double>();
    else if (k == "acceptable_pause") o.acceptable_pause = millis_from(value, "acceptable_pause");
    else if (k == "min_std_dev") o.min_std_dev = millis_from(value, "min_std_dev");
    else if (k == "reconnect_max") o.reconnect_max = millis_from(value, "reconnect_max");
    else if (k == "tls") {
      // (certfile, keyfile, cafile), checked by noexpp.TlsConfig; the engine loads them.
      auto [certfile, keyfile, cafile] = value.cast<std::tuple<std::string, std::string, std::string>>();
      o.tls = cluster::TlsOptions{std::move(certfile), std::move(keyfile), std::move(cafile)};
    }
    else throw pyb::value_error("unknown cluster option '" + k + "'");
  }
  return o;
}

void register_cluster(pyb::module_& m, NodeClass& node_class) {
  pyb::class_<ClusterHandle>(m, "Cluster", "A node's part in a cluster (Node.cluster; use noexpp.Node).")
      .def("connect",
           [](const ClusterHandle& c, const std::string& id, pyb::object timeout) {
             auto d = duration_from(timeout);
             value_or_raise(without_gil([&] { return c.cluster->connect_wait(id, d); }));
           })
      .def("members",
           [](const ClusterHandle& c) {
             pyb::list out;
             auto members = without_gil([&] { return c.cluster->members(); });
             for (auto& mi : members)
               out.append(pyb::make_tuple(mi.id, mi.status, mi.process_count, mi.since_heartbeat, mi.rtt, mi.creation));
             return out;
           })
      .def("subscribe",
           [](const ClusterHandle& c, pyb::function callback) {
             return subscribe_python(c.cluster->events(), c.node, std::move(callback), "noexpp node_up/node_down callback");
           })
      .def("unsubscribe", [](const ClusterHandle& c, std::uint64_t id) { c.cluster->events().unsubscribe(id); })
      .def("partition", [](const ClusterHandle& c, const std::string& peer, bool on) { c.cluster->set_partitioned(peer, on); })
      .def("delay",
           [](const ClusterHandle& c, const std::string& peer, pyb::object seconds) {
             c.cluster->set_delay(peer, std::chrono::duration_cast<std::chrono::microseconds>(duration_from(seconds, "delay")));
           })
      .def("heal", [](const ClusterHandle& c) { c.cluster->heal_all(); })
      .def("request", [](const ClusterHandle& c, const std::string& id, pyb::object request, pyb::object timeout) {
        Term t = to_term(request);
        auto d = duration_from(timeout);
        auto value = value_or_raise(without_gil([&] { return c.cluster->request(id, std::move(t), d); }));
        return to_python(value, c.node);
      });

  node_class
      .def_property_readonly("cluster",
                             [](const std::shared_ptr<Node>& n) -> std::optional<ClusterHandle> {
                               if (auto* c = cluster::cluster_of(*n)) return ClusterHandle{n, c};
                               return std::nullopt;
                             },
                             "The node's cluster, or None for a node that does not listen.");
}

}  // namespace noexpp::py
