// Supervisors from Python: specs in, a Supervisor handle out, and lifecycle
// event subscriptions. The spec objects are noexpp.supervisor's classes, whose
// constructors have already checked types; this file only translates.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "errors.hpp"
#include "gil_boundary.hpp"
#include "nested_spec.hpp"
#include "noexpp/behavior_registry.hpp"
#include "noexpp/sup/supervisor.hpp"
#include "py_behavior.hpp"
#include "py_types.hpp"
#include "register.hpp"
#include "term_convert.hpp"
#include "time_convert.hpp"

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

using namespace noexpp::sup;


template <class E>
E parse_or_raise(std::optional<E> v, const char* what, const std::string& given) {
  if (!v) throw pyb::value_error(std::string("unknown ") + what + " '" + given + "'");
  return *v;
}

Decider decider_from(pyb::object fn) {
  auto holder = std::make_shared<GilObject>(std::move(fn));
  // Runs on the crashing child's thread; an error in the decider means "restart".
  return [holder](const std::string& id, const ExitReason& reason) {
    Directive d = Directive::restart;
    with_gil([&] {
      try {
        pyb::object out = holder->get()(id, reason.error_type, reason.message);
        auto parsed = pyb::isinstance<pyb::str>(out) ? parse_directive(out.cast<std::string>()) : std::nullopt;
        if (!parsed)
          throw pyb::value_error("decider returned " + std::string(pyb::repr(out)) +
                                 "; expected 'resume', 'restart', 'stop' or 'escalate'");
        d = *parsed;
      } catch (pyb::error_already_set& e) {
        e.discard_as_unraisable("noexpp supervisor decider (the child is restarted)");
      } catch (const std::exception& e) {
        PyErr_SetString(PyExc_ValueError, e.what());
        PyErr_WriteUnraisable(holder->get().ptr());
      }
    });
    return d;
  };
}

SupervisorSpec supervisor_spec_from(pyb::handle py);

ChildSpec child_spec_from(pyb::handle py) {
  ChildSpec c;
  c.id = py.attr("id").cast<std::string>();
  pyb::object behavior = py.attr("behavior");
  if (pyb::hasattr(behavior, "_is_supervisor_spec")) {
    c.supervisor = std::make_shared<SupervisorSpec>(supervisor_spec_from(behavior));
    c.behavior_name = "supervisor";
  } else if (is_distributed_supervisor_spec(behavior)) {
    c.supervisor = std::make_shared<SupervisorSpec>(nested_distributed_spec_from(behavior));
    c.behavior_name = "supervisor";
  } else if (pyb::isinstance<pyb::str>(behavior)) {
    auto name = behavior.cast<std::string>();
    auto entry = BehaviorRegistry::instance().find(name);
    if (!entry) raise_error(Error{Errc::behavior_not_found, "no behavior registered as '" + name + "' (child '" + c.id + "')"});
    c.behavior = entry->factory;
    c.behavior_name = name;
  } else {
    c.behavior = PyBehavior::factory_for(behavior);
    c.behavior_name = pyb::str(behavior.attr("__name__")).cast<std::string>();
  }
  c.args = to_term(py.attr("args"));
  c.restart = parse_or_raise(parse_restart_type(py.attr("restart").cast<std::string>()), "restart type",
                             py.attr("restart").cast<std::string>());
  c.shutdown = duration_from(py.attr("shutdown"), "shutdown");  // None -> kShutdownInfinity
  c.significant = py.attr("significant").cast<bool>();
  pyb::object name = py.attr("name");
  if (!name.is_none()) c.name = name.cast<std::string>();
  // get_childspec hands back this very object.
  c.user_data = std::make_shared<GilObject>(pyb::reinterpret_borrow<pyb::object>(py));
  return c;
}

/// The Python ChildSpec a C++ spec was made from.
pyb::object python_spec_of(const ChildSpec& c) {
  if (!c.user_data) raise_error(Error{SupErrc::child_not_found, "child '" + c.id + "' has no Python spec"});
  return static_cast<const GilObject*>(c.user_data.get())->get();
}

SupervisorSpec supervisor_spec_from(pyb::handle py) {
  SupervisorSpec s;
  auto strategy = py.attr("strategy").cast<std::string>();
  s.strategy = parse_or_raise(parse_strategy(strategy), "strategy", strategy);
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
  pyb::object decider = py.attr("decider");
  if (!decider.is_none()) s.decider = decider_from(decider);
  auto autos = py.attr("auto_shutdown").cast<std::string>();
  s.auto_shutdown = parse_or_raise(parse_auto_shutdown(autos), "auto_shutdown", autos);
  for (auto child : py.attr("children")) s.children.push_back(child_spec_from(child));
  pyb::object tmpl = py.attr("child_template");
  if (!tmpl.is_none()) s.child_template = child_spec_from(tmpl);
  pyb::object name = py.attr("name");
  if (!name.is_none()) s.name = name.cast<std::string>();
  return s;
}

pyb::object ref_or_none(const std::shared_ptr<Node>& node, Pid pid) {
  if (pid.is_nil()) return pyb::none();
  return pyb::cast(Ref{node, pid});
}

pyb::dict stats_to_python(const SupervisorStats& s, const std::shared_ptr<Node>& node) {
  pyb::list children;
  for (auto& c : s.children) {
    pyb::dict d;
    d["id"] = c.id;
    d["ref"] = ref_or_none(node, c.pid);
    d["restart_count"] = c.restart_count;
    d["last_error"] = c.last_error.empty() ? pyb::object(pyb::none()) : pyb::object(pyb::str(c.last_error));
    d["uptime"] = c.uptime;
    d["node_id"] = c.node_id;
    children.append(d);
  }
  pyb::dict out;
  out["running"] = s.running;
  out["health"] = s.health;
  out["child_count"] = s.child_count;
  out["total_restarts"] = s.total_restarts;
  out["node_failure_restarts"] = s.node_failure_restarts;
  out["uptime"] = s.uptime;
  out["stop_reason"] = s.stop_reason.empty() ? pyb::object(pyb::none()) : pyb::object(pyb::str(s.stop_reason));
  out["error"] = !s.stop_error ? pyb::object(pyb::none()) : pyb::object(pyb::str("max_restarts_exceeded"));
  out["children"] = children;
  return out;
}

/// The Ref of a child just started, or None when its init returned Ignore
/// (OTP's {ok, undefined}).
pyb::object started(const Supervisor& s, Pid pid) {
  if (pid.is_nil()) return pyb::none();
  return pyb::cast(Ref{s.node().shared_from_this(), pid});
}

}  // namespace

void register_supervisor(pyb::module_& m, NodeClass& node_class) {
  pyb::class_<Supervisor>(m, "Supervisor", "A handle on a supervisor process (use noexpp.Supervisor).")
      .def_property_readonly("ref", [](const Supervisor& s) { return Ref{s.node().shared_from_this(), s.pid()}; })
      .def_property_readonly("running", &Supervisor::running)
      .def("start_child_spec",
           [](Supervisor& s, pyb::handle spec, pyb::object timeout) {
             ChildSpec c = child_spec_from(spec);
             auto d = duration_from(timeout);
             auto pid = value_or_raise(without_gil([&] { return s.start_child(std::move(c), d); }));
             return started(s, pid);
           })
      .def("start_child_args",
           [](Supervisor& s, pyb::tuple args, pyb::object timeout) {
             Term t = to_term(args);
             auto d = duration_from(timeout);
             auto pid = value_or_raise(without_gil([&] { return s.start_child(std::move(t), d); }));
             return started(s, pid);
           })
      .def("terminate_child",
           [](Supervisor& s, pyb::object which, pyb::object timeout) {
             auto d = duration_from(timeout);
             if (pyb::isinstance<Ref>(which)) {
               Pid p = which.cast<const Ref&>().pid;
               value_or_raise(without_gil([&] { return s.terminate_child(p, d); }));
             } else {
               auto id = which.cast<std::string>();
               value_or_raise(without_gil([&] { return s.terminate_child(id, d); }));
             }
           })
      .def("restart_child",
           [](Supervisor& s, const std::string& id, pyb::object timeout) {
             auto d = duration_from(timeout);
             auto pid = value_or_raise(without_gil([&] { return s.restart_child(id, d); }));
             return started(s, pid);
           })
      .def("delete_child",
           [](Supervisor& s, const std::string& id, pyb::object timeout) {
             auto d = duration_from(timeout);
             value_or_raise(without_gil([&] { return s.delete_child(id, d); }));
           })
      .def("which_children",
           [](Supervisor& s, pyb::object timeout) {
             auto d = duration_from(timeout);
             auto kids = value_or_raise(without_gil([&] { return s.which_children(d); }));
             auto node = s.node().shared_from_this();
             pyb::list out;
             for (auto& k : kids)
               out.append(pyb::make_tuple(k.id, ref_or_none(node, k.pid), k.restart_count, k.started_at, k.behavior,
                                          to_string(k.restart), k.is_supervisor, k.status, k.node_id));
             return out;
           })
      .def("get_childspec",
           [](Supervisor& s, pyb::object which, pyb::object timeout) {
             auto d = duration_from(timeout);
             ChildSpec spec;
             if (pyb::isinstance<Ref>(which)) {
               Pid p = which.cast<const Ref&>().pid;
               spec = value_or_raise(without_gil([&] { return s.get_childspec(p, d); }));
             } else {
               auto id = which.cast<std::string>();
               spec = value_or_raise(without_gil([&] { return s.get_childspec(id, d); }));
             }
             return python_spec_of(spec);
           })
      .def("child_supervisor",
           [](Supervisor& s, const std::string& id, pyb::object timeout) {
             auto d = duration_from(timeout);
             return value_or_raise(without_gil([&] { return s.child_supervisor(id, d); }));
           })
      .def("count_children",
           [](Supervisor& s, pyb::object timeout) {
             auto d = duration_from(timeout);
             auto c = value_or_raise(without_gil([&] { return s.count_children(d); }));
             pyb::dict out;
             out["specs"] = c.specs;
             out["active"] = c.active;
             out["supervisors"] = c.supervisors;
             out["workers"] = c.workers;
             return out;
           })
      .def("stats",
           [](Supervisor& s, pyb::object timeout) {
             auto d = duration_from(timeout);
             auto st = without_gil([&] { return s.stats(d); });
             return stats_to_python(st, s.node().shared_from_this());
           })
      .def("stop", [](Supervisor& s, pyb::object timeout) {
        auto d = duration_from(timeout);
        value_or_raise(without_gil([&] { return s.stop(d); }));
      });

  node_class
      .def("start_supervisor",
           [](const std::shared_ptr<Node>& node, pyb::handle spec, std::optional<Ref> link) {
             SupervisorSpec s = supervisor_spec_from(spec);
             SpawnOptions opts;
             if (link) opts.link_to = link->pid;
             return value_or_raise(without_gil([&] { return start_supervisor(node, std::move(s), opts); }));
           })
      .def("subscribe_lifecycle",
           [](const std::shared_ptr<Node>& node, pyb::function callback) {
             return subscribe_python(node->events(), node, std::move(callback), "noexpp lifecycle event callback");
           })
      .def("unsubscribe_lifecycle", [](Node& node, std::uint64_t id) { node.events().unsubscribe(id); });
}

}  // namespace noexpp::py
