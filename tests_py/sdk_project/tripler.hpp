#pragma once
// The user's C++ behavior: call n -> 3n, call "where" -> its node's id.
#include <noexpp/noexpp.hpp>

class Tripler : public noexpp::GenServer {
 public:
  noexpp::CallReply handle_call(const noexpp::Term& request, const noexpp::From&) override {
    if (request.is("where")) return noexpp::Term(node().id());
    return noexpp::Term(request.as_int() * 3);
  }
  std::string behavior_name() const override { return "sdk_user.tripler"; }
};

// A behavior with a setting, registered with constructor arguments:
// call n -> n * factor.
class Scaler : public noexpp::GenServer {
 public:
  explicit Scaler(int factor) : factor_(factor) {}
  noexpp::CallReply handle_call(const noexpp::Term& request, const noexpp::From&) override {
    return noexpp::Term(request.as_int() * factor_);
  }
  std::string behavior_name() const override { return "sdk_user.scaler"; }

 private:
  int factor_;
};
