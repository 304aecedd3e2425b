#include "noexpp/behavior.hpp"

#include "noexpp/node.hpp"
#include "core/process.hpp"
#include "noexpp/call.hpp"

namespace noexpp {

namespace {

/// What a behavior without a callback raises (OTP's undef).
[[noreturn]] void undefined(const GenServer& self, const char* callback, const char* what, const Term& t) {
  throw HandlerError("UndefinedCallbackError",
                     self.behavior_name() + " does not define " + callback + " (" + what + " " + t.to_string(200) + ")");
}

}  // namespace

CallReply GenServer::handle_call(const Term& request, const From&) { undefined(*this, "handle_call", "call", request); }
void GenServer::handle_cast(const Term& request) { undefined(*this, "handle_cast", "cast", request); }
void GenServer::handle_continue(const Term& arg) { undefined(*this, "handle_continue", "continue", arg); }

void GenServer::handle_info(const Info& info) {
  switch (info.kind) {
    case Info::Kind::message: return drop_unexpected("message " + info.message.to_string(200));
    case Info::Kind::down: return drop_unexpected("DOWN from " + info.from.to_string() + ": " + info.reason.to_string());
    case Info::Kind::exit: return drop_unexpected("EXIT from " + info.from.to_string() + ": " + info.reason.to_string());
  }
}

void GenServer::ignore() { process_->request_ignore(); }
void GenServer::drop_unexpected(const std::string& what) { process_->drop_unexpected(what); }

GenServer* GenServer::current() {
  auto* p = Process::current();
  return p ? &p->behavior() : nullptr;
}

Pid GenServer::self() const { return process_->pid(); }
Node& GenServer::node() const { return process_->node(); }
void GenServer::reply(const From& to, Term value) { node().reply(to, std::move(value)); }
void GenServer::send(Pid to, Term message) { node().send(to, std::move(message)); }
void GenServer::cast(Pid to, Term request) { node().cast(to, std::move(request)); }

TimerRef GenServer::send_after(Duration delay, Term message) {
  auto t = node().send_after(self(), delay, std::move(message));
  process_->track_timer(t.id);
  return t;
}

bool GenServer::cancel_timer(TimerRef t) {
  process_->untrack_timer(t.id);
  return node().cancel_timer(t);
}

void GenServer::stop(ExitReason reason) { process_->request_stop(std::move(reason)); }
void GenServer::continue_with(Term arg) { process_->request_continue(std::move(arg)); }
std::uint64_t GenServer::monitor(Pid target) { return node().monitor_by(self(), target); }
void GenServer::demonitor(Pid target, std::uint64_t ref) { node().demonitor(target, ref); }
void GenServer::link(Pid other) { node().link(self(), other); }
void GenServer::unlink(Pid other) { node().unlink(self(), other); }
void GenServer::trap_exit(bool on) { process_->set_trap_exit(on); }

void GenServer::await_call(Pid to, Term request, Duration timeout, std::function<void(CallOutcome)> done,
                           std::coroutine_handle<> frame) {
  process_->await_call(to, std::move(request), timeout, std::move(done), frame);
}

}  // namespace noexpp
