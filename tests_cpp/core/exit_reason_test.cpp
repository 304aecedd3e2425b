// Exit reasons, error values and call outcomes: small value types with to_string.
#include <set>
#include <string>
#include <system_error>

#include "core/internal/codec.hpp"
#include "test_support.hpp"

namespace noexpp {
namespace {

std::vector<ExitReason> every_kind() {
  return {ExitReason::normal(),
          ExitReason::shutdown(),
          ExitReason::shutdown_with(Term::tuple({"maintenance", 3})),
          ExitReason::killed(),
          ExitReason::noproc(),
          ExitReason::noconnection(),
          ExitReason::error("ValueError", "bad value"),
          ExitReason::other(Term::list({"custom", 1}))};
}

TEST(ExitReason, is_abnormal_table) {
  struct Row {
    ExitReason reason;
    bool abnormal;
  };
  const Row table[] = {
      {ExitReason::normal(), false},
      {ExitReason::shutdown(), false},
      {ExitReason::shutdown_with("x"), false},
      {ExitReason::killed(), true},
      {ExitReason::noproc(), true},
      {ExitReason::noconnection(), true},
      {ExitReason::error("RuntimeError", "boom"), true},
      {ExitReason::other("whatever"), true},
  };
  for (const auto& row : table) EXPECT_EQ(row.reason.is_abnormal(), row.abnormal) << row.reason.to_string();
}

TEST(ExitReason, default_is_normal) {
  ExitReason r;
  EXPECT_EQ(r.kind, ExitReason::Kind::normal);
  EXPECT_EQ(r, ExitReason::normal());
  EXPECT_FALSE(r.is_abnormal());
}

TEST(ExitReason, factories_fill_the_right_fields) {
  auto e = ExitReason::error("KeyError", "'k'");
  EXPECT_EQ(e.kind, ExitReason::Kind::error);
  EXPECT_EQ(e.error_type, "KeyError");
  EXPECT_EQ(e.message, "'k'");
  auto s = ExitReason::shutdown_with(7);
  EXPECT_EQ(s.kind, ExitReason::Kind::shutdown_term);
  EXPECT_EQ(s.detail, Term(7));
  auto o = ExitReason::other("x");
  EXPECT_EQ(o.kind, ExitReason::Kind::other);
  EXPECT_EQ(o.detail, Term("x"));
}

TEST(ExitReason, to_term_from_term_round_trip) {
  for (const auto& r : every_kind()) {
    SCOPED_TRACE(r.to_string());
    EXPECT_EQ(ExitReason::from_term(r.to_term()), r);
  }
}

TEST(ExitReason, to_term_round_trips_through_the_codec) {
  for (const auto& r : every_kind()) {
    SCOPED_TRACE(r.to_string());
    auto bytes = codec::encode(r.to_term());
    auto back = codec::decode(std::span<const char>(bytes));
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(ExitReason::from_term(back.value()), r);
  }
}

TEST(ExitReason, to_term_shapes) {
  EXPECT_EQ(ExitReason::normal().to_term(), Term("normal"));
  EXPECT_EQ(ExitReason::shutdown().to_term(), Term("shutdown"));
  EXPECT_EQ(ExitReason::killed().to_term(), Term("killed"));
  EXPECT_EQ(ExitReason::noproc().to_term(), Term("noproc"));
  EXPECT_EQ(ExitReason::noconnection().to_term(), Term("noconnection"));
  EXPECT_EQ(ExitReason::error("ValueError", "bad").to_term(), Term::tuple({"error", "ValueError", "bad"}));
  EXPECT_EQ(ExitReason::shutdown_with("x").to_term(), Term::tuple({"shutdown", "x"}));
  EXPECT_EQ(ExitReason::other(5).to_term(), Term::tuple({"other", 5}));
}

TEST(ExitReason, from_term_accepts_erlang_spellings) {
  EXPECT_EQ(ExitReason::from_term("kill"), ExitReason::killed());
  EXPECT_EQ(ExitReason::from_term("normal"), ExitReason::normal());
  EXPECT_EQ(ExitReason::from_term(Term::tuple({"shutdown", 1})), ExitReason::shutdown_with(1));
  // Anything unrecognised is kept as `other`, never lost.
  EXPECT_EQ(ExitReason::from_term(42), ExitReason::other(42));
  EXPECT_EQ(ExitReason::from_term("banana"), ExitReason::other("banana"));
  EXPECT_TRUE(ExitReason::from_term(Term::tuple({"error", 1, 2})).is_abnormal());
}

TEST(ExitReason, to_string_samples) {
  EXPECT_EQ(ExitReason::normal().to_string(), "normal");
  EXPECT_EQ(ExitReason::shutdown().to_string(), "shutdown");
  EXPECT_EQ(ExitReason::shutdown_with("x").to_string(), "{shutdown, 'x'}");
  EXPECT_EQ(ExitReason::killed().to_string(), "killed");
  EXPECT_EQ(ExitReason::noproc().to_string(), "noproc");
  EXPECT_EQ(ExitReason::noconnection().to_string(), "noconnection");
  EXPECT_EQ(ExitReason::error("ValueError", "bad").to_string(), "error ValueError: bad");
  EXPECT_EQ(to_string(ExitReason::Kind::killed), std::string("killed"));
  EXPECT_EQ(to_string(ExitReason::Kind::error), std::string("error"));
  // `other` shows its detail.
  EXPECT_NE(ExitReason::other("custom").to_string().find("custom"), std::string::npos);
}

TEST(ExitReason, equality_compares_every_field) {
  EXPECT_EQ(ExitReason::error("A", "m"), ExitReason::error("A", "m"));
  EXPECT_NE(ExitReason::error("A", "m"), ExitReason::error("B", "m"));
  EXPECT_NE(ExitReason::error("A", "m"), ExitReason::error("A", "n"));
  EXPECT_NE(ExitReason::shutdown_with(1), ExitReason::shutdown_with(2));
  EXPECT_NE(ExitReason::shutdown(), ExitReason::shutdown_with(Term()));
}

TEST(Error, codes_are_std_error_codes_with_messages) {
  std::error_code ec = Errc::bad_term;
  EXPECT_EQ(&ec.category(), &core_category());
  EXPECT_STREQ(core_category().name(), "noexpp");
  EXPECT_TRUE(ec);
  EXPECT_FALSE(std::error_code(Errc::ok));
  for (auto e : {Errc::call_timeout, Errc::no_process, Errc::process_crashed, Errc::no_connection,
                 Errc::self_call, Errc::node_stopped, Errc::duplicate_name, Errc::behavior_not_found,
                 Errc::init_failed, Errc::bad_term, Errc::invalid_argument}) {
    EXPECT_FALSE(make_error_code(e).message().empty()) << static_cast<int>(e);
  }
}

TEST(Error, to_string_carries_the_detail) {
  Error e{Errc::duplicate_name, "name 'db' is taken"};
  auto s = e.to_string();
  EXPECT_NE(s.find(make_error_code(Errc::duplicate_name).message()), std::string::npos) << s;
  EXPECT_NE(s.find("name 'db' is taken"), std::string::npos) << s;
}

TEST(Error, result_holds_value_or_error) {
  Result<int> ok(5);
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(ok.value(), 5);
  Result<int> bad(Error{Errc::invalid_argument, "no"});
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
  EXPECT_EQ(bad.error().detail, "no");
}

TEST(CallOutcome, factories) {
  auto ok = CallOutcome::reply(3);
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.value, Term(3));
  auto crashed = CallOutcome::failed(Errc::process_crashed, ExitReason::error("E", "m"));
  EXPECT_FALSE(crashed.ok());
  EXPECT_EQ(crashed.reason, ExitReason::error("E", "m"));
}

TEST(CallOutcome, status_names_from_the_engine) {
  const char* (*fn)(Errc) = &noexpp::to_string;
  using S = Errc;
  std::set<std::string> names;
  for (auto s : {S::ok, S::call_timeout, S::no_process, S::process_crashed, S::no_connection, S::self_call,
                 S::node_stopped}) {
    std::string n = fn(s);
    EXPECT_FALSE(n.empty());
    names.insert(n);
  }
  EXPECT_EQ(names.size(), 7u);  // distinct names
  EXPECT_EQ(std::string(fn(S::call_timeout)), "call_timeout");
  EXPECT_EQ(std::string(fn(S::no_process)), "no_process");
}

}  // namespace
}  // namespace noexpp
