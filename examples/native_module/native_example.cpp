// Two C++ behaviors, registered with noexpp when Python imports this module
// (native_example._behaviors, imported by the package after noexpp).
//   "native.counter":  cast "inc" adds one, call "get" -> the count,
//                      call "crash" throws (its supervisor restarts it).
//   "native.greeter":  call name -> "<greeting>, <name> from <node>"; registered
//                      twice with different constructor arguments.
#include <pybind11/pybind11.h>

#include <noexpp/noexpp.hpp>
#include <stdexcept>
#include <string>

namespace {

class Counter : public noexpp::GenServer {
 public:
  noexpp::CallReply handle_call(const noexpp::Term& request, const noexpp::From&) override {
    if (request.is("get")) return noexpp::Term(count_);
    if (request.is("crash")) throw std::runtime_error("counter asked to crash");
    throw std::invalid_argument("counter: unknown call " + request.to_string());
  }
  void handle_cast(const noexpp::Term& request) override {
    if (request.is("inc")) ++count_;
  }
  std::string behavior_name() const override { return "native.counter"; }

 private:
  std::int64_t count_ = 0;
};

class Greeter : public noexpp::GenServer {
 public:
  explicit Greeter(std::string greeting) : greeting_(std::move(greeting)) {}
  noexpp::CallReply handle_call(const noexpp::Term& request, const noexpp::From&) override {
    return noexpp::Term(greeting_ + ", " + request.as_string() + " from " + node().id().substr(0, node().id().find('@')));
  }
  std::string behavior_name() const override { return "native.greeter"; }

 private:
  std::string greeting_;
};

void check(const noexpp::Result<bool>& r) {
  if (!r.ok()) throw std::runtime_error(r.error().to_string());
}

}  // namespace

PYBIND11_MODULE(_behaviors, m) {
  m.doc() = "C++ behaviors for noexpp: native.counter, native.hello, native.bonjour";
  check(noexpp::register_behavior<Counter>("native.counter"));
  check(noexpp::register_behavior<Greeter>("native.hello", std::string("hello")));
  check(noexpp::register_behavior<Greeter>("native.bonjour", std::string("bonjour")));
}
