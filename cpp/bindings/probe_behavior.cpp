// "noexpp.probe": a small C++ behavior registered by the module, so Python
// can run C++ children (tests run one suite over Python and C++ behaviors;
// demos and experiments get a native worker without compiling anything).
// It has no Python in it.
#include <stdexcept>

#include "noexpp/behavior_registry.hpp"
#include "noexpp/node.hpp"
#include "register.hpp"

namespace noexpp::py {
namespace {

/// init(value=0, notify=None, trap_exit=False): sends ("up", self) to
/// `notify` once started and ("terminated", self, reason) from terminate.
/// call "ping" -> "pong", "get" -> value, ("add", n) -> new value,
///      "crash" -> raises RuntimeError;
/// cast/send "inc" -> value + 1, "crash" -> raises RuntimeError,
///      ("stop", reason) -> stops with reason.
/// Trapped EXIT messages are ignored (a child that ignores its supervisor's
/// shutdown and has to be killed).
class Probe : public GenServer {
 public:
  void init(const Term& args) override {
    const auto* items = args.is_tuple() ? &args.as_tuple().items : args.is_list() ? &args.as_list().items : nullptr;
    if (items && !items->empty() && (*items)[0].is_int()) value_ = (*items)[0].as_int();
    if (items && items->size() > 1 && (*items)[1].is_pid()) notify_ = (*items)[1].as_pid();
    if (items && items->size() > 2 && (*items)[2].is_bool() && (*items)[2].as_bool()) trap_exit(true);
    if (!notify_.is_nil()) send(notify_, Term::tuple({"up", self()}));
  }
  CallReply handle_call(const Term& request, const From&) override {
    if (request.is("ping")) return Term("pong");
    if (request.is("get")) return Term(value_);
    if (request.is("crash")) throw std::runtime_error("crash requested");
    if (request.is_tuple() && request.as_tuple().items.size() == 2 && request.as_tuple().items[0].is("add")) {
      value_ += request.as_tuple().items[1].as_int();
      return Term(value_);
    }
    throw std::invalid_argument("probe: unknown call " + request.to_string());
  }
  void handle_cast(const Term& request) override { act(request); }
  void handle_info(const Info& info) override {
    if (info.kind == Info::Kind::message) act(info.message);
  }
  void terminate(const ExitReason& reason) override {
    if (!notify_.is_nil()) send(notify_, Term::tuple({"terminated", self(), reason.to_string()}));
  }
  std::string behavior_name() const override { return "noexpp.probe"; }

 private:
  void act(const Term& m) {
    if (m.is("inc")) ++value_;
    if (m.is("crash")) throw std::runtime_error("crash requested");
    if (m.is_tuple() && m.as_tuple().items.size() == 2 && m.as_tuple().items[0].is("stop"))
      stop(ExitReason::from_term(m.as_tuple().items[1]));
  }
  std::int64_t value_ = 0;
  Pid notify_;
};

}  // namespace

void register_probe_behavior() { (void)register_behavior<Probe>("noexpp.probe"); }

}  // namespace noexpp::py
