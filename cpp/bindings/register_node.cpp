// Python classes Node and Ref, the behavior registry and logging.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "errors.hpp"
#include "gil_boundary.hpp"
#include "core/internal/node_internals.hpp"
#include "noexpp/behavior_registry.hpp"
#include "noexpp/cluster/cluster.hpp"
#include "noexpp/dist/node.hpp"
#include "noexpp/node.hpp"
#include "py_behavior.hpp"
#include "py_types.hpp"
#include "register.hpp"
#include "term_convert.hpp"
#include "time_convert.hpp"

namespace noexpp::py {
namespace pyb = pybind11;
namespace {

pyb::object ref_call(const Ref& r, pyb::object request, pyb::object timeout_seconds) {
  const auto timeout = duration_from(timeout_seconds);
  Term t = to_term(request);
  auto waiter = std::make_shared<CallWaiter>();
  // Without the GIL: if the target is idle, this thread runs it right here.
  // The engine owns the deadline: the outcome always comes.
  auto ref = without_gil(
      [&] { return NodeInternals::call_from_waiting_thread(*r.node, r.pid, std::move(t), timeout, waiter->completion()); });
  CallOutcome o = wait_for_outcome(*r.node, *waiter, ref);
  if (!o.ok()) raise_call_failure(o, r.pid.to_string());
  return to_python(o.value, r.node);
}

/// The asyncio path: `done(ok, value_or_exception)` is called once, from an
/// engine thread with the GIL taken (or at once if the call fails at once).
void ref_call_callback(const Ref& r, pyb::object request, pyb::object timeout, pyb::function done) {
  Duration d = duration_from(timeout);
  Term t = to_term(request);
  auto cb = std::make_shared<GilObject>(std::move(done));
  auto node = r.node;
  auto target = r.pid.to_string();
  node->call_async(r.pid, std::move(t), d, [cb, node, target](CallOutcome o) {
    with_gil([&] {
      try {
        if (o.ok())
          cb->get()(true, to_python(o.value, node));
        else
          cb->get()(false, call_failure(o, target));
      } catch (pyb::error_already_set& e) {
        e.discard_as_unraisable("noexpp call_async completion");
      }
    });
  });
}

/// send / cast: silent for a gone target (as in Erlang), an error for a
/// message that cannot leave this node.
void send_or_raise(const Ref& r, pyb::object message, bool as_cast) {
  Term term = to_term(message);
  // To another node the sender may wait for room (backpressure), so without
  // the GIL: the receiver may be a Python process of this interpreter.
  auto sent = r.node->is_local(r.pid)
                  ? r.node->send_message(r.pid, std::move(term), as_cast)
                  : without_gil([&] { return r.node->send_message(r.pid, std::move(term), as_cast); });
  if (!sent) raise_error(sent.error());
}

/// Local: a table lookup. Remote: a request to its node (false when that
/// node is unreachable).
bool ref_alive(const Ref& r) {
  if (r.node->is_local(r.pid)) return r.node->alive(r.pid);
  auto* c = cluster::cluster_of(*r.node);
  return c && without_gil([&] { return c->alive(r.pid, std::chrono::seconds(5)); });
}

std::string ref_repr(const Ref& r) { return "Ref(" + r.pid.to_string() + ")"; }

Ref spawn(const std::shared_ptr<Node>& node, pyb::object behavior, pyb::tuple args, std::string name,
          std::optional<Ref> link) {
  BehaviorFactory factory;
  if (pyb::isinstance<pyb::str>(behavior)) {
    auto entry = BehaviorRegistry::instance().find(behavior.cast<std::string>());
    if (!entry)
      raise_error(Error{Errc::behavior_not_found, "no behavior registered as '" + behavior.cast<std::string>() +
                                                      "' on node " + node->id()});
    factory = entry->factory;
  } else {
    factory = PyBehavior::factory_for(behavior);
  }
  Term t = to_term(args);
  SpawnOptions opts;
  opts.name = std::move(name);
  if (link) opts.link_to = link->pid;
  auto result = without_gil([&] { return node->spawn(factory, t, opts); });
  if (!result) raise_error(result.error());
  return Ref{node, result.value()};
}

}  // namespace

std::uint64_t subscribe_python(EventBus& bus, const std::shared_ptr<Node>& node, pyb::function callback,
                               const char* what) {
  auto cb = std::make_shared<GilObject>(std::move(callback));
  std::weak_ptr<Node> weak = node;
  return bus.subscribe([cb, weak, what](const LifecycleEvent& e) {
    auto n = weak.lock();
    if (!n) return;
    with_gil([&] {
      try {
        cb->get()(to_python(e.to_term(), n));
      } catch (pyb::error_already_set& err) {
        err.discard_as_unraisable(what);
      }
    });
  });
}

NodeClass register_node(pyb::module_& m) {
  pyb::class_<Ref>(m, "Ref", "A reference to a process, local or remote.")
      .def("call", &ref_call, pyb::arg("request"), pyb::arg("timeout") = 5.0,
           "Calls the process and waits for its reply (GIL released while waiting).")
      .def("_call_callback", &ref_call_callback)
      .def("cast", [](const Ref& r, pyb::object req) { send_or_raise(r, req, true); }, pyb::arg("request"))
      .def("send", [](const Ref& r, pyb::object msg) { send_or_raise(r, msg, false); }, pyb::arg("message"))
      .def("stop",
           [](const Ref& r, pyb::object reason, pyb::object timeout) {
             auto why = exit_reason_from_python(reason);
             auto d = duration_from(timeout);
             ExitReason exited_with;
             auto result = without_gil([&] { return r.node->stop_process(r.pid, why, d, &exited_with); });
             if (!result && result.error().code == Errc::process_crashed)
               raise_call_failure(CallOutcome::failed(Errc::process_crashed, exited_with, result.error().detail),
                                  r.pid.to_string());
             if (!result) raise_error(result.error());
           },
           pyb::arg("reason") = "normal", pyb::arg("timeout") = 5.0)
      .def("kill", [](const Ref& r) { return r.node->kill(r.pid); }, "Kills the process (untrappable).")
      .def("exit", [](const Ref& r, pyb::object reason) { return r.node->exit(r.pid, exit_reason_from_python(reason)); },
           pyb::arg("reason"), "Sends an exit signal, as erlang:exit/2.")
      .def_property_readonly("alive", &ref_alive)
      .def_property_readonly("node_id", [](const Ref& r) { return node_name(r.pid.node); })
      .def_property_readonly("serial", [](const Ref& r) { return r.pid.serial; })
      .def("__eq__", [](const Ref& a, pyb::object b) { return pyb::isinstance<Ref>(b) && a.pid == b.cast<const Ref&>().pid; })
      .def("__hash__", [](const Ref& r) { return PidHash{}(r.pid); })
      .def("__repr__", &ref_repr)
      .def(pyb::pickle([](const Ref&) -> pyb::tuple { throw pyb::type_error("a Ref cannot be pickled; send it in a message"); },
                       [](pyb::tuple) -> Ref { throw pyb::type_error("a Ref cannot be unpickled"); }));

  NodeClass node_class(m, "Node");
  node_class
      .def(pyb::init([](std::string name, std::string host, int port, int threads, std::optional<pyb::dict> cluster) {
             NodeOptions o{std::move(name), std::move(host), static_cast<std::uint16_t>(port), threads};
             try {
               if (cluster) return dist::create_node(std::move(o), cluster_options_from(*cluster), &delete_node);
               return Node::create(std::move(o), &delete_node);
             } catch (const ErrorException& e) {
               raise_error(e.error);
             }
           }),
           pyb::arg("name"), pyb::arg("host"), pyb::arg("port"), pyb::arg("threads"), pyb::arg("cluster") = std::nullopt)
      .def("start", &Node::start)
      .def("stop", [](Node& n, double grace) {
             without_gil([&] {
               n.stop(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(grace)));
               return 0;
             });
           }, pyb::arg("grace") = 5.0)
      .def_property_readonly("id", &Node::id)
      .def_property_readonly("running", &Node::running)
      .def_property_readonly("threads", &Node::threads)
      .def("spawn", &spawn, pyb::arg("behavior"), pyb::arg("args"), pyb::arg("name") = "",
           pyb::arg("link") = std::nullopt)
      .def("whereis", [](const std::shared_ptr<Node>& n, const std::string& name) -> std::optional<Ref> {
        if (auto p = n->whereis(name)) return Ref{n, *p};
        return std::nullopt;
      })
      .def("monitor",
           [](Node& n, const Ref& target, pyb::function callback) {
             auto cb = std::make_shared<GilObject>(std::move(callback));
             auto node = target.node;
             return n.monitor(target.pid, [cb, node](Pid pid, const ExitReason& reason) {
               with_gil([&] {
                 try {
                   cb->get()(Ref{node, pid}, reason);
                 } catch (pyb::error_already_set& e) {
                   e.discard_as_unraisable("noexpp monitor callback");
                 }
               });
             });
           })
      .def("demonitor", [](Node& n, const Ref& target, std::uint64_t ref) { n.demonitor(target.pid, ref); })
      .def("process_count", &Node::process_count)
      .def("processes", [](const std::shared_ptr<Node>& n) {
        pyb::list out;
        for (auto& p : n->processes()) out.append(pyb::make_tuple(Ref{n, p.pid}, p.name, p.behavior));
        return out;
      })
      .def("open_calls", &Node::open_calls)
      .def("abort",
           [](Node& n) {
             without_gil([&] {
               n.abort();
               return 0;
             });
           },
           "Stops as a crash looks to peers: connections close without a goodbye.");

  m.def("register_python_behavior", [](const std::string& name, pyb::object cls) {
    auto r = BehaviorRegistry::instance().add(BehaviorEntry{name, "python", PyBehavior::factory_for(cls), cls.ptr()});
    if (!r) raise_error(r.error());
    return r.value();
  });
  m.def("behaviors", [] {
    pyb::list out;
    for (auto& e : BehaviorRegistry::instance().list()) out.append(pyb::make_tuple(e.name, e.language));
    return out;
  });
  m.def("has_behavior", [](const std::string& name) { return BehaviorRegistry::instance().find(name).has_value(); });
  m.def("set_log_level", [](const std::string& level) {
    if (!set_log_level(level))
      throw pyb::value_error("unknown log level '" + level +
                             "' (use trace, debug, info, warning, error, critical or off)");
  });
  return node_class;
}

}  // namespace noexpp::py
