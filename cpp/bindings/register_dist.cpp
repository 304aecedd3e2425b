// Remote spawn and the global registry seen from Python.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "errors.hpp"
#include "gil_boundary.hpp"
#include "noexpp/cluster/cluster.hpp"
#include "noexpp/node.hpp"
#include "noexpp/dist/global_registry.hpp"
#include "noexpp/dist/remote_spawn.hpp"
#include "py_types.hpp"
#include "register.hpp"
#include "term_convert.hpp"
#include "time_convert.hpp"

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

dist::GlobalRegistry& registry_of(Node& node) {
  auto* g = dist::global_registry(node);
  if (!g) raise_error(Error{Errc::no_connection, "node " + node.id() + " does not listen (created with listen=None)"});
  return *g;
}

}  // namespace

void register_dist(pyb::module_& m) {
  m.def("spawn_remote", [](const std::shared_ptr<Node>& node, const std::string& id, const std::string& behavior,
                           pyb::tuple args, std::string name, pyb::object timeout) {
    Term t = to_term(args);
    auto d = duration_from(timeout);
    auto pid = value_or_raise(without_gil([&] { return dist::spawn(*node, id, behavior, std::move(t), name, d); }));
    return Ref{node, pid};
  });
  m.def("global_register", [](Node& node, const std::string& name, const Ref& ref, int on_conflict, pyb::object timeout) {
    auto& g = registry_of(node);
    auto d = duration_from(timeout);
    value_or_raise(without_gil([&] { return g.register_name(name, ref.pid, static_cast<dist::OnConflict>(on_conflict), d); }));
  });
  m.def("global_unregister", [](Node& node, const std::string& name, pyb::object timeout) {
    auto& g = registry_of(node);
    auto d = duration_from(timeout);
    return value_or_raise(without_gil([&] { return g.unregister_name(name, d); }));
  });
  m.def("global_whereis", [](const std::shared_ptr<Node>& node, const std::string& name) -> std::optional<Ref> {
    if (auto p = registry_of(*node).whereis(name)) return Ref{node, *p};
    return std::nullopt;
  });
  m.def("global_names", [](Node& node) { return registry_of(node).names(); });
  m.def("global_set_conflict_handler", [](const std::shared_ptr<Node>& node, pyb::function callback) {
    auto cb = std::make_shared<GilObject>(std::move(callback));
    std::weak_ptr<Node> weak = node;
    registry_of(*node).set_conflict_handler([cb, weak](const std::string& name, Pid loser, Pid winner) {
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
}

}  // namespace noexpp::py
