// Smoke test of the supervisor: a crash is restarted, one_for_all order.
#include "../core/test_support.hpp"

namespace noexpp::test {
namespace {

using sup::ChildSpec;
using sup::SupervisorSpec;

class SupSmoke : public NodeTest {};

ChildSpec worker(std::string id, std::shared_ptr<Recorder<std::string>> log) {
  ChildSpec c;
  c.id = id;
  c.behavior_name = "fn";
  Handlers h;
  h.init = [log, id](GenServer&, const Term&) { log->push("start " + id); };
  h.cast = [](GenServer&, const Term& t) {
    if (t.is("crash")) throw std::runtime_error("boom");
  };
  h.terminate = [log, id](GenServer&, const ExitReason&) { log->push("stop " + id); };
  c.behavior = fn_server(h);
  return c;
}

TEST_F(SupSmoke, one_for_all_restarts_all_in_order) {
  auto log = std::make_shared<Recorder<std::string>>();
  auto events = std::make_shared<Recorder<std::string>>();
  node_->events().subscribe([events](const LifecycleEvent& e) { events->push(e.type); });
  SupervisorSpec spec;
  spec.strategy = sup::Strategy::one_for_all;
  for (auto id : {"a", "b", "c"}) spec.children.push_back(worker(id, log));
  auto s = sup::start_supervisor(node_, spec);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  auto kids = s.value().which_children().value();
  ASSERT_EQ(kids.size(), 3u);
  node_->cast(kids[1].pid, "crash");
  ASSERT_TRUE(log->wait_until_count(3 + 3 + 3));
  EXPECT_EQ(log->snapshot(), (std::vector<std::string>{"start a", "start b", "start c", "stop b", "stop c", "stop a",
                                                       "start a", "start b", "start c"}));
  auto st = s.value().stats();
  EXPECT_EQ(st.total_restarts, 1u);
  ASSERT_TRUE(s.value().stop().ok());
  EXPECT_FALSE(s.value().running());
  ASSERT_TRUE(events->wait_until([](auto& v) { return !v.empty() && v.back() == "supervisor_stopped"; }));
}

}  // namespace
}  // namespace noexpp::test
