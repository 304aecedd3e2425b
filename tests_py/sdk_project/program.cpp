// A plain C++ program on the installed engine: registers a behavior, runs a
// node, spawns it by name and calls it.
#include <cstdio>

#include "tripler.hpp"

int main() {
  std::printf("headers %s, engine %s\n", noexpp::kHeaderVersion, noexpp::engine_version());
  if (auto r = noexpp::register_behavior<Tripler>("sdk_user.tripler"); !r.ok()) {
    std::printf("refused: %s\n", r.error().detail.c_str());
    return 1;
  }
  auto node = noexpp::Node::create({"sdk_program"});
  node->start();
  auto entry = noexpp::BehaviorRegistry::instance().find("sdk_user.tripler");
  if (!entry) return 2;
  auto pid = node->spawn(entry->factory, {});
  if (!pid.ok()) return 2;
  auto reply = node->call(pid.value(), noexpp::Term(14));
  if (!reply.ok()) return 3;
  std::printf("tripler answered %lld\n", static_cast<long long>(reply.value.as_int()));
  node->stop();
  return 0;
}
