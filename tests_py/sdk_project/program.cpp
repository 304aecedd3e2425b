// A plain C++ program on the installed engine, no Python in it.
//   sdk_program                  registers a behavior, runs a node, spawns it
//                                by name and calls it.
//   sdk_program COOKIE SEED_ID   then joins the cluster of node SEED_ID (a
//                                Python node, in the test), spawns the Python
//                                behavior "sdk_py.echo" there and calls it.
#include <chrono>
#include <cstdio>
#include <string>

#include "tripler.hpp"

using namespace std::chrono_literals;

namespace {

int join(const std::string& cookie, const std::string& seed) {
  noexpp::cluster::ClusterOptions options;
  options.cookie = cookie;
  auto node = noexpp::dist::create_node({"sdk_cpp"}, options);
  node->start();
  auto* cluster = noexpp::cluster::cluster_of(*node);
  if (!cluster || !cluster->connect_wait(seed, 30s).ok()) return 4;
  auto echo = noexpp::dist::spawn(*node, seed, "sdk_py.echo", noexpp::Term::tuple({}), "", 30s);
  if (!echo.ok()) {
    std::printf("spawn on the Python node failed: %s\n", echo.error().to_string().c_str());
    return 5;
  }
  auto reply = node->call(echo.value(), noexpp::Term::tuple({"from", node->id()}), 30s);
  if (!reply.ok()) return 6;
  std::printf("python node answered %s\n", reply.value.to_string().c_str());
  std::fflush(stdout);
  node->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
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
  std::fflush(stdout);
  node->stop();
  if (argc == 3) return join(argv[1], argv[2]);
  return 0;
}
