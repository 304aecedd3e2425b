// Term and Pid: construction, accessors and the readable rendering.
#include <cmath>
#include <limits>
#include <thread>
#include <unordered_set>
#include <variant>

#include "test_support.hpp"

namespace noexpp {
namespace {

TEST(Term, each_alternative_reports_its_type) {
  EXPECT_EQ(Term().type(), Term::Type::nil);
  EXPECT_EQ(Term(nullptr).type(), Term::Type::nil);
  EXPECT_EQ(Term(true).type(), Term::Type::boolean);
  EXPECT_EQ(Term(42).type(), Term::Type::integer);
  EXPECT_EQ(Term(42L).type(), Term::Type::integer);
  EXPECT_EQ(Term(42LL).type(), Term::Type::integer);
  EXPECT_EQ(Term(42U).type(), Term::Type::integer);
  EXPECT_EQ(Term(1.5).type(), Term::Type::floating);
  EXPECT_EQ(Term("s").type(), Term::Type::string);
  EXPECT_EQ(Term(std::string("s")).type(), Term::Type::string);
  EXPECT_EQ(Term(std::string_view("s")).type(), Term::Type::string);
  EXPECT_EQ(Term(Binary{{1, 2}}).type(), Term::Type::binary);
  EXPECT_EQ(Term::list({1, 2}).type(), Term::Type::list);
  EXPECT_EQ(Term::tuple({1, 2}).type(), Term::Type::tuple);
  EXPECT_EQ(Term(Map{}).type(), Term::Type::map);
  EXPECT_EQ(Term(Pid{1, 0, 1}).type(), Term::Type::pid);

  EXPECT_TRUE(Term().is_nil());
  EXPECT_TRUE(Term(false).is_bool());
  EXPECT_TRUE(Term(0).is_int());
  EXPECT_TRUE(Term(0.0).is_float());
  EXPECT_TRUE(Term("").is_string());
  EXPECT_TRUE(Term(Binary{}).is_binary());
  EXPECT_TRUE(Term::list({}).is_list());
  EXPECT_TRUE(Term::tuple({}).is_tuple());
  EXPECT_TRUE(Term(Map{}).is_map());
  EXPECT_TRUE(Term(Pid{}).is_pid());
}

TEST(Term, accessors_return_the_value_and_throw_on_mismatch) {
  EXPECT_EQ(Term(std::numeric_limits<std::int64_t>::min()).as_int(),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(Term(3000000000U).as_int(), 3000000000LL);  // unsigned widens, never wraps
  EXPECT_TRUE(Term(true).as_bool());
  EXPECT_EQ(Term(2.5).as_float(), 2.5);
  EXPECT_EQ(Term("abc").as_string(), "abc");
  EXPECT_EQ(Term(Binary{{0xff}}).as_binary().bytes, std::vector<std::uint8_t>{0xff});
  EXPECT_EQ(Term::list({1, "a"}).as_list().items.size(), 2u);
  EXPECT_EQ(Term::tuple({1}).as_tuple().items.at(0), Term(1));
  Pid p{7, 3, 99};
  EXPECT_EQ(Term(p).as_pid(), p);

  EXPECT_THROW((void)Term("1").as_int(), std::bad_variant_access);
  EXPECT_THROW((void)Term(1).as_string(), std::bad_variant_access);
  EXPECT_THROW((void)Term(1).as_float(), std::bad_variant_access);  // no silent int->float
  EXPECT_THROW((void)Term::list({}).as_tuple(), std::bad_variant_access);
}

TEST(Term, is_matches_only_equal_strings) {
  EXPECT_TRUE(Term("ping").is("ping"));
  EXPECT_FALSE(Term("ping").is("pong"));
  EXPECT_FALSE(Term(1).is("1"));
  EXPECT_FALSE(Term(Binary{{'p'}}).is("p"));
}

TEST(Term, equality_is_structural_and_type_strict) {
  EXPECT_EQ(Term::list({1, "a", Term::tuple({2})}), Term::list({1, "a", Term::tuple({2})}));
  EXPECT_NE(Term::list({1, 2}), Term::tuple({1, 2}));  // a list is not a tuple
  EXPECT_NE(Term(1), Term(1.0));
  EXPECT_NE(Term(true), Term(1));
  EXPECT_NE(Term("a"), Term(Binary{{'a'}}));
  // Maps keep insertion order, and equality respects it.
  Map ab{{{"a", 1}, {"b", 2}}};
  Map ba{{{"b", 2}, {"a", 1}}};
  EXPECT_EQ(Term(ab), Term(ab));
  EXPECT_NE(Term(ab), Term(ba));
}

TEST(Term, to_string_samples) {
  EXPECT_EQ(Term().to_string(), "None");
  EXPECT_EQ(Term(true).to_string(), "True");
  EXPECT_EQ(Term(false).to_string(), "False");
  EXPECT_EQ(Term(-7).to_string(), "-7");
  EXPECT_EQ(Term(std::numeric_limits<std::int64_t>::min()).to_string(), "-9223372036854775808");
  EXPECT_EQ(Term(0.5).to_string(), "0.5");
  EXPECT_EQ(Term(std::nan("")).to_string(), "nan");
  EXPECT_EQ(Term(std::numeric_limits<double>::infinity()).to_string(), "inf");
  EXPECT_EQ(Term(-std::numeric_limits<double>::infinity()).to_string(), "-inf");
  EXPECT_EQ(Term("a").to_string(), "'a'");
  EXPECT_EQ(Term("it's").to_string(), "'it\\'s'");
  EXPECT_EQ(Term(Binary{{1, 2, 3}}).to_string(), "b<3 bytes>");
  EXPECT_EQ(Term::list({}).to_string(), "[]");
  EXPECT_EQ(Term::tuple({}).to_string(), "()");
  EXPECT_EQ(Term::tuple({2}).to_string(), "(2,)");
  EXPECT_EQ(Term::tuple({1, 2}).to_string(), "(1, 2)");
  EXPECT_EQ(Term::list({1, "a", Term::tuple({2})}).to_string(), "[1, 'a', (2,)]");
  EXPECT_EQ(Term(Map{}).to_string(), "{}");
  EXPECT_EQ(Term(Map{{{"k", Term::list({1, 2})}, {3, Term()}}}).to_string(),
            "{'k': [1, 2], 3: None}");
  auto n = intern_node_name("render@127.0.0.1:4370");
  EXPECT_EQ(Term(Pid{n, 1, 12}).to_string(), "<render@127.0.0.1:4370.12>");
}

TEST(Pid, to_string_names_node_and_serial) {
  auto n = intern_node_name("alpha@127.0.0.1:4370");
  EXPECT_EQ((Pid{n, 5, 12}).to_string(), "<alpha@127.0.0.1:4370.12>");
  EXPECT_EQ(Pid{}.to_string(), "<nil>");
}

TEST(Pid, nil_node_itself_and_same_node) {
  auto n = intern_node_name("beta@127.0.0.1:1");
  EXPECT_TRUE(Pid{}.is_nil());
  EXPECT_FALSE(Pid{}.is_node_itself());
  EXPECT_TRUE((Pid{n, 1, 0}).is_node_itself());
  EXPECT_FALSE((Pid{n, 1, 3}).is_node_itself());
  EXPECT_FALSE((Pid{n, 1, 3}).is_nil());
  EXPECT_TRUE((Pid{n, 1, 3}).same_node(Pid{n, 1, 9}));
  EXPECT_FALSE((Pid{n, 1, 3}).same_node(Pid{n, 2, 3}));  // another incarnation
}

TEST(Pid, intern_node_name_is_stable) {
  auto a = intern_node_name("gamma@127.0.0.1:5");
  auto b = intern_node_name("delta@127.0.0.1:5");
  EXPECT_NE(a, 0u);  // 0 means "no node"
  EXPECT_NE(a, b);
  EXPECT_EQ(intern_node_name("gamma@127.0.0.1:5"), a);
  EXPECT_EQ(node_name(a), "gamma@127.0.0.1:5");
  EXPECT_EQ(node_name(b), "delta@127.0.0.1:5");
}

TEST(Pid, intern_node_name_concurrently_gives_one_index) {
  std::vector<std::thread> threads;
  std::vector<std::uint32_t> got(8);
  for (std::size_t i = 0; i < got.size(); ++i)
    threads.emplace_back([&got, i] { got[i] = intern_node_name("racy@127.0.0.1:77"); });
  for (auto& t : threads) t.join();
  for (auto g : got) EXPECT_EQ(g, got[0]);
  EXPECT_EQ(node_name(got[0]), "racy@127.0.0.1:77");
}

TEST(Pid, ordering_and_hash) {
  Pid a{1, 1, 1}, b{1, 1, 2};
  EXPECT_LT(a, b);
  EXPECT_EQ(a, (Pid{1, 1, 1}));
  EXPECT_NE(a, (Pid{1, 2, 1}));
  std::unordered_set<Pid> set{a, b, Pid{1, 1, 1}};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace noexpp
