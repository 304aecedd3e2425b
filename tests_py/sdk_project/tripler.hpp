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
