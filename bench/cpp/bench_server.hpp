#pragma once
/// The GenServer under test, the C++ twin of bench_srv.erl:
///   call "ping"  -> "pong"        (round-trip probe)
///   call "count" -> casts seen    (drain for the cast benchmark)
///   cast _       -> counter + 1   (throughput payload)
#include <cstdint>
#include <memory>
#include <string>

#include <noexpp/behavior.hpp>

namespace noexpp_bench {

class BenchServer : public noexpp::GenServer {
 public:
  noexpp::CallReply handle_call(const noexpp::Term& request, const noexpp::From&) override {
    if (request.is("ping")) return noexpp::Term("pong");
    if (request.is("count")) return noexpp::Term(count_);
    return noexpp::Term("unknown_request");
  }
  void handle_cast(const noexpp::Term&) override { ++count_; }
  std::string behavior_name() const override { return "bench_srv"; }

 private:
  std::int64_t count_ = 0;
};

/// A factory for any default-constructible behavior.
template <class T>
noexpp::BehaviorFactory factory_of() {
  return [] { return std::make_unique<T>(); };
}

}  // namespace noexpp_bench
