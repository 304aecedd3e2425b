// Remote spawn (Node.spawn_remote) and _core.GlobalRegistry
// (Node.global_registry) seen from Python.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "errors.hpp"
#include "gil_boundary.hpp"
#include "noexpp/dist/global_registry.hpp"
#include "noexpp/dist/remote_spawn.hpp"
#include "noexpp/node.hpp"
#include "py_types.hpp"
#include "register.hpp"
#include "term_convert.hpp"
#include "time_convert.hpp"

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

/// A node's global registry as Python holds it (keeps the node alive).
struct GlobalRegistryHandle {
  std::shared_ptr<Node> node;
  dist::GlobalRegistry* registry;
};

}  // namespace

void register_dist(pyb::module_& m, NodeClass& node_class) {
  pyb::class_<GlobalRegistryHandle>(m, "GlobalRegistry", "Cluster-wide names (Node.global_registry; use noexpp.Node).")
      .def("register",
           [](const GlobalRegistryHandle& g, const std::string& name, const Ref& ref, int on_conflict, pyb::object timeout) {
             auto d = duration_from(timeout);
             value_or_raise(without_gil(
                 [&] { return g.registry->register_name(name, ref.pid, static_cast<dist::OnConflict>(on_conflict), d); }));
           })
      .def("unregister",
           [](const GlobalRegistryHandle& g, const std::string& name, pyb::object timeout) {
             auto d = duration_from(timeout);
             return value_or_raise(without_gil([&] { return g.registry->unregister_name(name, d); }));
           })
      .def("whereis",
           [](const GlobalRegistryHandle& g, const std::string& name) -> std::optional<Ref> {
             if (auto p = without_gil([&] { return g.registry->whereis(name); })) return Ref{g.node, *p};
             return std::nullopt;
           })
      .def("names", [](const GlobalRegistryHandle& g) { return without_gil([&] { return g.registry->names(); }); })
      .def("set_conflict_handler", [](const GlobalRegistryHandle& g, pyb::function callback) {
        auto cb = std::make_shared<GilObject>(std::move(callback));
        std::weak_ptr<Node> weak = g.node;
        g.registry->set_conflict_handler([cb, weak](const std::string& name, Pid loser, Pid winner) {
          auto n = weak.lock();
          if (!n) return;
          with_gil([&] {
            try {
              cb->get()(name, Ref{n, loser}, Ref{n, winner});
            } catch (pyb::error_already_set& err) {
              err.discard_as_unraisable("noexpp global name conflict callback");
            }
          });
        });
      });

  node_class
      .def_property_readonly("global_registry",
                             [](const std::shared_ptr<Node>& n) -> std::optional<GlobalRegistryHandle> {
                               if (auto* g = dist::global_registry(*n)) return GlobalRegistryHandle{n, g};
                               return std::nullopt;
                             },
                             "The node's replica of the cluster-wide names, or None for a node that does not listen.")
      .def("spawn_remote", [](const std::shared_ptr<Node>& node, const std::string& id, const std::string& behavior,
                              pyb::tuple args, std::string name, pyb::object timeout) {
        Term t = to_term(args);
        auto d = duration_from(timeout);
        auto pid = value_or_raise(without_gil([&] { return dist::spawn(*node, id, behavior, std::move(t), name, d); }));
        return Ref{node, pid};
      });
}

}  // namespace noexpp::py
