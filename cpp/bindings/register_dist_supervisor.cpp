// The distributed supervisor from Python: noexpp.DistributedSupervisorSpec
// and DistributedChildSpec in (their constructors have checked types and
// values), a _core.DistributedSupervisor handle out. The handle is a
// _core.Supervisor whose start_child takes distributed specs.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "errors.hpp"
#include "gil_boundary.hpp"
#include "nested_spec.hpp"
#include "noexpp/dist/distributed_supervisor.hpp"
#include "py_types.hpp"
#include "register.hpp"
#include "term_convert.hpp"
#include "time_convert.hpp"

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

using dist::NodeSelector;

/// A selector from its Python form: a name, ("node", id), or a callable
/// `choose(members, child_id) -> id` that noexpp.distributed_supervisor has
/// wrapped to take (id, status, process_count) tuples.
NodeSelector selector_from(pyb::handle py) {
  NodeSelector s;
  if (pyb::isinstance<pyb::str>(py)) {
    auto name = py.cast<std::string>();
    auto kind = dist::parse_selector(name);
    if (!kind) throw pyb::value_error("unknown node_selector '" + name + "'");
    s.kind = *kind;
  } else if (pyb::isinstance<pyb::tuple>(py)) {
    s.kind = NodeSelector::Kind::node;
    s.node = py.cast<pyb::tuple>()[1].cast<std::string>();
  } else {
    s.kind = NodeSelector::Kind::custom;
    auto fn = std::make_shared<GilObject>(pyb::reinterpret_borrow<pyb::object>(py));
    // On the supervisor's thread; an exception becomes NoAvailableNode.
    s.choose = [fn](const std::vector<cluster::MemberInfo>& nodes, const std::string& child_id) {
      std::string chosen;
      std::string failure;
      with_gil([&] {
        try {
          pyb::list members;
          for (auto& m : nodes) members.append(pyb::make_tuple(m.id, m.status, m.process_count));
          pyb::object out = fn->get()(members, child_id);
          if (!pyb::isinstance<pyb::str>(out))
            failure = "node_selector returned " + std::string(pyb::repr(out)) + ", not a node id";
          else
            chosen = out.cast<std::string>();
        } catch (pyb::error_already_set& e) {
          failure = e.what();
        }
      });
      if (!failure.empty()) throw std::runtime_error(failure);
      return chosen;
    };
  }
  return s;
}

dist::DistributedChildSpec child_spec_from(pyb::handle py) {
  dist::DistributedChildSpec c;
  c.id = py.attr("id").cast<std::string>();
  c.behavior_name = py.attr("behavior_name").cast<std::string>();
  c.args = to_term(py.attr("args"));
  auto restart = py.attr("restart").cast<std::string>();
  c.restart = *sup::parse_restart_type(restart);  // checked by the Python class
  c.shutdown = duration_from(py.attr("shutdown"), "shutdown");
  c.significant = py.attr("significant").cast<bool>();
  pyb::object sel = py.attr("_selector");
  if (!sel.is_none()) c.node_selector = selector_from(sel);
  // get_childspec hands back this very object.
  c.user_data = std::make_shared<GilObject>(pyb::reinterpret_borrow<pyb::object>(py));
  return c;
}

dist::DistributedSupervisorSpec supervisor_spec_from(pyb::handle py) {
  dist::DistributedSupervisorSpec s;
  s.strategy = *sup::parse_strategy(py.attr("strategy").cast<std::string>());
  s.node_selector = selector_from(py.attr("_selector"));
  s.max_restarts = py.attr("max_restarts").cast<int>();
  s.within = duration_from(py.attr("within"), "within");
  pyb::object b = py.attr("backoff");
  if (!b.is_none()) {
    s.backoff.initial = duration_from(b.attr("initial"), "Backoff.initial");
    s.backoff.max = duration_from(b.attr("max"), "Backoff.max");
    s.backoff.factor = b.attr("factor").cast<double>();
    s.backoff.jitter = b.attr("jitter").cast<double>();
    pyb::object reset = b.attr("reset_after");
    if (!reset.is_none()) s.backoff.reset_after = duration_from(reset, "Backoff.reset_after");
  }
  s.auto_shutdown = *sup::parse_auto_shutdown(py.attr("auto_shutdown").cast<std::string>());
  for (auto child : py.attr("children")) s.children.push_back(child_spec_from(child));
  pyb::object tmpl = py.attr("child_template");
  if (!tmpl.is_none()) s.child_template = child_spec_from(tmpl);
  pyb::object name = py.attr("name");
  if (!name.is_none()) s.name = name.cast<std::string>();
  s.lease = duration_from(py.attr("lease"), "lease");
  return s;
}

}  // namespace

bool is_distributed_supervisor_spec(pyb::handle py) { return pyb::hasattr(py, "_is_distributed_supervisor_spec"); }

sup::SupervisorSpec nested_distributed_spec_from(pyb::handle py) {
  return value_or_raise(dist::to_supervisor_spec(supervisor_spec_from(py)));
}

void register_dist_supervisor(pyb::module_& m, NodeClass& node_class) {
  pyb::class_<dist::DistributedSupervisor, sup::Supervisor>(
      m, "DistributedSupervisor", "A handle on a distributed supervisor (use noexpp.DistributedSupervisor).")
      .def("start_child_spec", [](dist::DistributedSupervisor& s, pyb::handle spec, pyb::object timeout) {
        auto c = child_spec_from(spec);
        auto d = duration_from(timeout);
        auto pid = value_or_raise(without_gil([&] { return s.start_child(std::move(c), d); }));
        return pyb::cast(Ref{s.node().shared_from_this(), pid});
      });

  // The handle of a nested distributed supervisor (Supervisor.child_supervisor
  // hands out a plain one).
  m.def("as_distributed_supervisor", [](const sup::Supervisor& s) { return dist::DistributedSupervisor(s); });

  node_class.def("start_distributed_supervisor", [](const std::shared_ptr<Node>& node, pyb::handle spec) {
    auto s = supervisor_spec_from(spec);
    return value_or_raise(without_gil([&] { return dist::start_distributed_supervisor(node, std::move(s)); }));
  });
}

}  // namespace noexpp::py
