// msgpack codec of Terms: round trips of every type, the wire layout of the
// ext types, and rejection of malformed or hostile input with Errc::bad_term.
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/internal/codec.hpp"
#include "core/internal/node_names.hpp"
#include "test_support.hpp"

namespace noexpp {
namespace {

using Bytes = std::vector<unsigned char>;

Result<Term> decode_bytes(const Bytes& b) {
  return codec::decode(std::span<const char>(reinterpret_cast<const char*>(b.data()), b.size()));
}
Result<Term> decode_vec(const std::vector<char>& b) { return codec::decode(std::span<const char>(b)); }

/// Encodes and decodes `t`; fails the test if decoding fails.
Term round_trip(const Term& t) {
  auto bytes = codec::encode(t);
  auto r = decode_vec(bytes);
  EXPECT_TRUE(r.ok()) << t.to_string() << ": " << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? r.value() : Term("<decode failed>");
}

/// Asserts that `r` failed with bad_term and a detail naming the problem.
void expect_bad_term(const Result<Term>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what << " decoded to " << r.value().to_string();
  EXPECT_EQ(r.error().code, Errc::bad_term) << what;
  EXPECT_FALSE(r.error().detail.empty()) << what << ": bad_term without a detail";
}

/// The msgpack ext type byte of an encoded ext value (fixext or ext 8/16/32).
int ext_type(const std::vector<char>& b) {
  auto at = [&](std::size_t i) { return static_cast<unsigned char>(b.at(i)); };
  switch (at(0)) {
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: return static_cast<signed char>(at(1));
    case 0xc7: return static_cast<signed char>(at(2));
    case 0xc8: return static_cast<signed char>(at(3));
    case 0xc9: return static_cast<signed char>(at(5));
    default: return -1000;  // not an ext
  }
}

/// `depth` containers made by `wrap` around `leaf`.
template <class Wrap>
Term nest(int depth, Term leaf, Wrap wrap) {
  Term t = std::move(leaf);
  for (int i = 0; i < depth; ++i) t = wrap(std::move(t));
  return t;
}
Term wrap_list(Term t) { return Term::list({std::move(t)}); }
Term wrap_tuple(Term t) { return Term::tuple({std::move(t)}); }
Term wrap_map(Term t) { return Term(Map{{{"k", std::move(t)}}}); }

/// msgpack bytes of `depth` one-element arrays around `leaf`.
Bytes nested_array_bytes(std::size_t depth, Bytes leaf) {
  Bytes b(depth, 0x91);
  b.insert(b.end(), leaf.begin(), leaf.end());
  return b;
}

// ---- round trips -----------------------------------------------------------

TEST(Codec, scalars_round_trip) {
  const Term samples[] = {
      Term(), Term(true), Term(false), Term(0), Term(1), Term(-1), Term(127), Term(128),
      Term(-32), Term(-33), Term(255), Term(256), Term(65535), Term(65536),
      Term(std::numeric_limits<std::int32_t>::max()), Term(std::numeric_limits<std::int32_t>::min()),
      Term(std::int64_t{1} << 32), Term(-(std::int64_t{1} << 32)),
      Term(std::numeric_limits<std::int64_t>::max()), Term(std::numeric_limits<std::int64_t>::min()),
      Term(0.0), Term(1.5), Term(-2.25), Term(1e300), Term(std::numeric_limits<double>::denorm_min()),
      Term(std::numeric_limits<double>::infinity()), Term(-std::numeric_limits<double>::infinity()),
      Term(""), Term("plain"), Term("h\xC3\xA9llo \xE2\x98\x83 \xF0\x9F\x8E\x89"),  // é ☃ 🎉
      Term(std::string("nul\0inside", 10)),
  };
  for (const auto& t : samples) {
    SCOPED_TRACE(t.to_string());
    Term back = round_trip(t);
    EXPECT_EQ(back.type(), t.type());
    EXPECT_EQ(back, t);
  }
}

TEST(Codec, int64_extremes_keep_their_exact_value) {
  for (std::int64_t v : {std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max() - 1,
                         std::numeric_limits<std::int64_t>::min() + 1}) {
    Term back = round_trip(Term(v));
    ASSERT_TRUE(back.is_int());
    EXPECT_EQ(back.as_int(), v);
  }
}

TEST(Codec, nan_round_trips_as_nan) {
  Term back = round_trip(Term(std::numeric_limits<double>::quiet_NaN()));
  ASSERT_TRUE(back.is_float());
  EXPECT_TRUE(std::isnan(back.as_float()));
}

TEST(Codec, negative_zero_keeps_its_sign) {
  Term back = round_trip(Term(-0.0));
  ASSERT_TRUE(back.is_float());
  EXPECT_EQ(back.as_float(), 0.0);
  EXPECT_TRUE(std::signbit(back.as_float()));
}

TEST(Codec, float_stays_float_and_int_stays_int) {
  EXPECT_TRUE(round_trip(Term(3.0)).is_float());
  EXPECT_TRUE(round_trip(Term(3)).is_int());
}

TEST(Codec, binary_with_non_utf8_bytes_round_trips) {
  Binary b{{0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0xc0, 0xed, 0xa0, 0x80}};
  Term back = round_trip(Term(b));
  ASSERT_TRUE(back.is_binary());  // bytes stay bytes, never become a string
  EXPECT_EQ(back.as_binary(), b);
  EXPECT_EQ(round_trip(Term(Binary{})), Term(Binary{}));
}

TEST(Codec, empty_containers_round_trip_and_keep_their_kind) {
  EXPECT_EQ(round_trip(Term::list({})), Term::list({}));
  EXPECT_EQ(round_trip(Term::tuple({})), Term::tuple({}));
  EXPECT_EQ(round_trip(Term(Map{})), Term(Map{}));
  EXPECT_TRUE(round_trip(Term::tuple({})).is_tuple());
  EXPECT_TRUE(round_trip(Term::list({})).is_list());
}

TEST(Codec, nested_list_tuple_map_round_trip) {
  auto n = intern_node_name("codec@127.0.0.1:4370");
  Term t = Term::list({
      1, "two", Term::tuple({3.5, Term(), Term::list({})}),
      Term(Map{{{"k", Term::tuple({Term(Pid{n, 2, 9}), Binary{{0, 255}}})},
                {Term::tuple({1, 2}), Term::list({true, false})},
                {7, Term(Map{})}}}),
      Term::tuple({Term::tuple({Term::tuple({"deep"})})}),
  });
  EXPECT_EQ(round_trip(t), t);
}

TEST(Codec, tuple_and_list_stay_distinct_inside_containers) {
  Term t = Term::list({Term::tuple({1, 2}), Term::list({1, 2})});
  Term back = round_trip(t);
  ASSERT_TRUE(back.is_list());
  EXPECT_TRUE(back.as_list().items.at(0).is_tuple());
  EXPECT_TRUE(back.as_list().items.at(1).is_list());
}

TEST(Codec, map_keeps_insertion_order_and_non_string_keys) {
  Map m{{{3, "c"}, {1, "a"}, {Term("b"), 2}, {Term(), Term()}, {Term::tuple({1}), 1.5}}};
  Term back = round_trip(Term(m));
  ASSERT_TRUE(back.is_map());
  EXPECT_EQ(back.as_map(), m);  // same pairs in the same order
}

TEST(Codec, pid_round_trips_with_node_creation_and_serial) {
  auto n = intern_node_name("alpha@127.0.0.1:4370");
  for (Pid p : {Pid{n, 0, 1}, Pid{n, 7, 12}, Pid{n, std::numeric_limits<std::uint32_t>::max(),
                                                 std::numeric_limits<std::uint64_t>::max() >> 1}}) {
    Term back = round_trip(Term(p));
    ASSERT_TRUE(back.is_pid());
    EXPECT_EQ(back.as_pid(), p);
  }
}

TEST(Codec, large_values_round_trip) {
  std::vector<Term> items;
  for (int i = 0; i < 70000; ++i) items.emplace_back(i);
  Term big_list = Term::list(items);  // array 32
  EXPECT_EQ(round_trip(big_list), big_list);
  Term big_str(std::string(100000, 'x'));  // str 32
  EXPECT_EQ(round_trip(big_str), big_str);
  Binary big_bin;
  big_bin.bytes.assign(70000, 0xab);  // bin 32
  EXPECT_EQ(round_trip(Term(big_bin)), Term(big_bin));
}

TEST(Codec, encode_appends_to_the_buffer) {
  std::vector<char> out{'x', 'y'};
  codec::encode(Term(1), out);
  codec::encode(Term("a"), out);
  ASSERT_EQ(out.size(), 2u + 1u + 2u);
  EXPECT_EQ(out[0], 'x');
  EXPECT_EQ(out[1], 'y');
  EXPECT_EQ(std::vector<char>(out.begin() + 2, out.end()), [] {
    std::vector<char> v = codec::encode(Term(1));
    auto s = codec::encode(Term("a"));
    v.insert(v.end(), s.begin(), s.end());
    return v;
  }());
}

// ---- wire layout -----------------------------------------------------------

TEST(Codec, plain_values_are_standard_msgpack) {
  EXPECT_EQ(codec::encode(Term()), std::vector<char>{char(0xc0)});
  EXPECT_EQ(codec::encode(Term(true)), std::vector<char>{char(0xc3)});
  EXPECT_EQ(codec::encode(Term(5)), std::vector<char>{char(0x05)});
  EXPECT_EQ(codec::encode(Term("a")), (std::vector<char>{char(0xa1), 'a'}));
  EXPECT_EQ(codec::encode(Term::list({})), std::vector<char>{char(0x90)});
  EXPECT_EQ(codec::encode(Term(Map{})), std::vector<char>{char(0x80)});
  EXPECT_EQ(codec::encode(Term(Binary{{7}})), (std::vector<char>{char(0xc4), 1, 7}));
}

TEST(Codec, tuple_and_pid_travel_as_their_ext_types) {
  EXPECT_EQ(ext_type(codec::encode(Term::tuple({}))), codec::kExtTuple);
  EXPECT_EQ(ext_type(codec::encode(Term::tuple({1, "a"}))), codec::kExtTuple);
  auto n = intern_node_name("wire@127.0.0.1:1");
  EXPECT_EQ(ext_type(codec::encode(Term(Pid{n, 1, 2}))), codec::kExtPid);
}

TEST(Codec, hand_built_pid_ext_decodes) {
  // fixarray(3) ["zeta@h:1", 3, 77], as another implementation would send it.
  Bytes payload{0x93, 0xa8, 'z', 'e', 't', 'a', '@', 'h', ':', '1', 0x03, 0x4d};
  Bytes b{0xc7, static_cast<unsigned char>(payload.size()), codec::kExtPid};
  b.insert(b.end(), payload.begin(), payload.end());
  auto r = decode_bytes(b);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r.value().is_pid());
  EXPECT_EQ(r.value().as_pid(), (Pid{intern_node_name("zeta@h:1"), 3, 77}));
}

TEST(Codec, msgpack_float32_decodes_as_float) {
  auto r = decode_bytes({0xca, 0x3f, 0xc0, 0x00, 0x00});  // 1.5f
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r.value().is_float());
  EXPECT_EQ(r.value().as_float(), 1.5);
}

// ---- decode errors ---------------------------------------------------------

TEST(CodecDecode, empty_input_is_bad_term) { expect_bad_term(decode_bytes({}), "empty input"); }

TEST(CodecDecode, every_truncation_is_bad_term) {
  auto n = intern_node_name("trunc@127.0.0.1:1");
  Term t = Term::list({std::numeric_limits<std::int64_t>::min(), 2.5, "string", Binary{{1, 2, 3}},
                       Term::tuple({1, Term(Pid{n, 1, 300})}), Term(Map{{{"k", Term::list({})}}})});
  auto bytes = codec::encode(t);
  ASSERT_GT(bytes.size(), 10u);
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    std::vector<char> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    expect_bad_term(decode_vec(prefix), "prefix of " + std::to_string(len) + " bytes");
  }
}

TEST(CodecDecode, truncated_scalars_are_bad_term) {
  expect_bad_term(decode_bytes({0xcf, 0x00, 0x01}), "uint64 missing bytes");
  expect_bad_term(decode_bytes({0xcb, 0x3f}), "float64 missing bytes");
  expect_bad_term(decode_bytes({0xa5, 'a', 'b'}), "str missing bytes");
  expect_bad_term(decode_bytes({0xc4, 0x04, 0x01}), "bin missing bytes");
  expect_bad_term(decode_bytes({0x92, 0x01}), "array missing an item");
  expect_bad_term(decode_bytes({0x81, 0x01}), "map missing a value");
}

TEST(CodecDecode, trailing_bytes_are_bad_term) {
  auto bytes = codec::encode(Term::list({1, 2}));
  bytes.push_back(char(0xc0));
  expect_bad_term(decode_vec(bytes), "array followed by nil");
  expect_bad_term(decode_bytes({0x01, 0x02}), "two ints");
  expect_bad_term(decode_bytes({0xc0, 0x00}), "nil then a zero byte");
}

TEST(CodecDecode, uint64_above_int64_max_is_bad_term) {
  expect_bad_term(decode_bytes({0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0}), "2^63");
  expect_bad_term(decode_bytes({0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), "2^64-1");
  expect_bad_term(decode_bytes({0x91, 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0}), "2^63 inside an array");
  auto max = decode_bytes({0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  ASSERT_TRUE(max.ok()) << max.error().to_string();
  EXPECT_EQ(max.value(), Term(std::numeric_limits<std::int64_t>::max()));
}

TEST(CodecDecode, invalid_utf8_string_is_bad_term) {
  expect_bad_term(decode_bytes({0xa2, 0xc3, 0x28}), "bad continuation byte");
  expect_bad_term(decode_bytes({0xa1, 0xff}), "0xff");
  expect_bad_term(decode_bytes({0xa2, 0xc0, 0x80}), "overlong NUL");
  expect_bad_term(decode_bytes({0xa3, 0xed, 0xa0, 0x80}), "UTF-16 surrogate");
  expect_bad_term(decode_bytes({0xa1, 0xe2}), "truncated sequence");
  expect_bad_term(decode_bytes({0x81, 0xa1, 0xff, 0x01}), "invalid map key");
  // The same bytes as a binary are fine.
  auto bin = decode_bytes({0xc4, 0x02, 0xc3, 0x28});
  ASSERT_TRUE(bin.ok());
  EXPECT_TRUE(bin.value().is_binary());
}

TEST(CodecDecode, unknown_ext_type_is_bad_term) {
  expect_bad_term(decode_bytes({0xd4, 0x05, 0x00}), "ext type 5");
  expect_bad_term(decode_bytes({0xd4, 0xff, 0x00}), "ext type -1 (msgpack timestamp)");
}

TEST(CodecDecode, malformed_tuple_and_pid_payloads_are_bad_term) {
  expect_bad_term(decode_bytes({0xd4, codec::kExtTuple, 0x01}), "tuple payload is an int");
  expect_bad_term(decode_bytes({0xd5, codec::kExtTuple, 0x92, 0x01}), "tuple payload truncated");
  expect_bad_term(decode_bytes({0xd5, codec::kExtTuple, 0x90, 0x01}), "tuple payload with trailing byte");
  expect_bad_term(decode_bytes({0xd4, codec::kExtPid, 0x90}), "pid payload empty array");
  expect_bad_term(decode_bytes({0xd6, codec::kExtPid, 0x93, 0x01, 0x02, 0x03}), "pid node not a str");
  expect_bad_term(decode_bytes({0xc7, 0x05, codec::kExtPid, 0x93, 0xa1, 'n', 0xff, 0x01}),
                  "pid negative creation");
  expect_bad_term(decode_bytes({0xc7, 0x05, codec::kExtPid, 0x93, 0xa1, 'n', 0x01, 0xff}),
                  "pid negative serial");
}

TEST(CodecDecode, reserved_byte_is_bad_term) { expect_bad_term(decode_bytes({0xc1}), "0xc1"); }

// ---- nesting limit ---------------------------------------------------------
// "Nesting" counts containers: a leaf inside N lists is nested N deep.

TEST(CodecDepth, nesting_at_max_depth_decodes) {
  Term lists = nest(kMaxTermDepth, Term(1), wrap_list);
  EXPECT_EQ(round_trip(lists), lists);
  Term maps = nest(kMaxTermDepth, Term(1), wrap_map);
  EXPECT_EQ(round_trip(maps), maps);
  auto raw = decode_bytes(nested_array_bytes(kMaxTermDepth, {0x01}));
  EXPECT_TRUE(raw.ok()) << raw.error().to_string();
}

TEST(CodecDepth, nesting_deeper_than_max_depth_is_bad_term) {
  expect_bad_term(decode_bytes(nested_array_bytes(kMaxTermDepth + 1, {0x01})), "max+1 arrays");
  expect_bad_term(decode_vec(codec::encode(nest(kMaxTermDepth + 1, Term(1), wrap_map))), "max+1 maps");
  expect_bad_term(decode_vec(codec::encode(nest(kMaxTermDepth + 1, Term(1), wrap_tuple))),
                  "max+1 tuples");
}

TEST(CodecDepth, hostile_deep_nesting_is_bad_term_without_overflowing_the_stack) {
  expect_bad_term(decode_bytes(nested_array_bytes(1'000'000, {0x01})), "a million arrays");
  Bytes maps;
  for (int i = 0; i < 100000; ++i) maps.insert(maps.end(), {0x81, 0xc0});
  maps.push_back(0xc0);
  expect_bad_term(decode_bytes(maps), "a hundred thousand maps");
}

// A tuple is one level of nesting, like a list: a value the sender's depth
// check accepts must decode on the receiving node.
TEST(CodecDepth, nested_tuples_at_max_depth_decode) {
  Term tuples = nest(kMaxTermDepth, Term(1), wrap_tuple);
  EXPECT_EQ(round_trip(tuples), tuples);
}

// A pid is a leaf: inside max-depth lists it must decode like an int does.
TEST(CodecDepth, pid_leaf_at_max_depth_decodes) {
  auto n = intern_node_name("deep@127.0.0.1:1");
  Term t = nest(kMaxTermDepth, Term(Pid{n, 1, 5}), wrap_list);
  EXPECT_EQ(round_trip(t), t);
}

// An empty list is a container too: max+1 nested lists are too deep even when
// the innermost one is empty.
TEST(CodecDepth, empty_innermost_container_counts_as_a_level) {
  auto ok = decode_bytes(nested_array_bytes(kMaxTermDepth - 1, {0x90}));  // max lists in all
  EXPECT_TRUE(ok.ok()) << ok.error().to_string();
  expect_bad_term(decode_bytes(nested_array_bytes(kMaxTermDepth, {0x90})), "max+1 lists, last empty");
}

// ---- hostile input: every ext counts, memory bounded by the input ----------

/// msgpack ext bytes (ext 32) of `type` around `payload`.
Bytes ext_bytes(std::int8_t type, const Bytes& payload) {
  Bytes b{0xc9};
  const auto n = static_cast<std::uint32_t>(payload.size());
  for (int shift : {24, 16, 8, 0}) b.push_back(static_cast<unsigned char>(n >> shift));
  b.push_back(static_cast<unsigned char>(type));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// The attack: each pid ext restarted the depth count, so 10,000 levels in a
// 40 kB frame cost 212 MB and 15,000 overflowed the stack.
TEST(CodecHostile, pids_nested_inside_pids_are_bad_term) {
  // Written outside in, in linear time (wrapping inside out copies the
  // growing frame each level: quadratic, minutes under a sanitizer).
  constexpr int kLevels = 100000;
  constexpr std::uint32_t kPerLevel = 6 + 1 + 2;  // ext32 header, array tag, two ints
  Bytes b;
  b.reserve(std::size_t{kLevels} * kPerLevel + 1);
  for (int i = kLevels; i > 0; --i) {
    // The payload of level i: the array tag, level i-1 (or the innermost 1), two ints.
    const std::uint32_t payload = 1 + (static_cast<std::uint32_t>(i) - 1) * kPerLevel + 1 + 2;
    b.push_back(0xc9);
    for (int shift : {24, 16, 8, 0}) b.push_back(static_cast<unsigned char>(payload >> shift));
    b.push_back(static_cast<unsigned char>(codec::kExtPid));
    b.push_back(0x93);
  }
  b.push_back(0x01);
  for (int i = 0; i < kLevels; ++i) b.insert(b.end(), {0x01, 0x01});
  expect_bad_term(decode_bytes(b), "100,000 pids nested in pid payloads");
}

TEST(CodecHostile, tuples_and_lists_alternating_count_every_level) {
  Bytes b = {0x01};
  for (int i = 0; i < 150; ++i) {
    Bytes list{0x91};
    list.insert(list.end(), b.begin(), b.end());
    Bytes tuple_payload{0x91};
    tuple_payload.insert(tuple_payload.end(), list.begin(), list.end());
    b = ext_bytes(codec::kExtTuple, tuple_payload);
  }
  expect_bad_term(decode_bytes(b), "300 levels of tuples and lists");
}

TEST(CodecHostile, a_container_that_declares_more_elements_than_bytes_is_bad_term_at_once) {
  // Four billion elements announced in five bytes: refused before any reserve.
  expect_bad_term(decode_bytes({0xdd, 0xff, 0xff, 0xff, 0xff}), "array32 of 2^32-1 in 5 bytes");
  expect_bad_term(decode_bytes({0xdf, 0xff, 0xff, 0xff, 0xff}), "map32 of 2^32-1 in 5 bytes");
  // A map's pairs need two bytes each at least.
  Bytes map{0xdf, 0x00, 0x00, 0x00, 0x04, 0xc0, 0xc0, 0xc0};
  expect_bad_term(decode_bytes(map), "a map of 4 pairs in 8 bytes");
}

TEST(CodecHostile, a_large_flat_array_still_decodes) {
  // The bound refuses nothing honest: a million small ints, a byte each.
  Bytes b{0xdd, 0x00, 0x0f, 0x42, 0x40};  // 1,000,000
  b.insert(b.end(), 1'000'000, 0x07);
  auto r = decode_bytes(b);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value().as_list().items.size(), 1'000'000u);
}

TEST(CodecHostile, a_pid_payload_accepts_nothing_but_its_three_fields) {
  expect_bad_term(decode_bytes(ext_bytes(codec::kExtPid, {0x94, 0xa1, 'n', 0x01, 0x01, 0x01})), "four fields");
  expect_bad_term(decode_bytes(ext_bytes(codec::kExtPid, {0x93, 0x91, 0xa1, 'n', 0x01, 0x01})), "a list as node");
  Bytes long_id{0x93, 0xda, 0x04, 0x00};  // str16 of 1024 bytes
  long_id.insert(long_id.end(), 1024, 'x');
  long_id.insert(long_id.end(), {0x01, 0x01});
  expect_bad_term(decode_bytes(ext_bytes(codec::kExtPid, long_id)), "a node id of 1 KB");
}

/// Decodes pids of ever new node ids until one is refused; exits 0 if that
/// happened at the bound, 2 if too early, 3 if never.
[[noreturn]] void decode_new_node_ids_until_refused() {
  for (std::size_t i = 0;; ++i) {
    const std::string id = "n" + std::to_string(i) + "@10.0.0.1:1";
    Bytes payload{0x93, 0xd9, static_cast<unsigned char>(id.size())};
    payload.insert(payload.end(), id.begin(), id.end());
    payload.insert(payload.end(), {0x01, 0x01});
    auto r = decode_bytes(ext_bytes(codec::kExtPid, payload));
    if (!r.ok()) std::exit(r.error().code == Errc::bad_term && i >= kMaxNodeNames - 64 ? 0 : 2);
    if (i > 2 * kMaxNodeNames) std::exit(3);
  }
}

TEST(CodecHostileDeathTest, pids_of_too_many_distinct_node_ids_are_bad_term) {
  // In a child process: the table it fills is process-wide.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(decode_new_node_ids_until_refused(), testing::ExitedWithCode(0), "");
}

// ---- UTF-8 validation ------------------------------------------------------

TEST(Utf8, valid_strings) {
  for (std::string_view s : {std::string_view(""), std::string_view("ascii"),
                             std::string_view("\xC3\xA9"),              // é
                             std::string_view("\xE2\x98\x83"),          // ☃
                             std::string_view("\xF0\x9F\x8E\x89"),      // 🎉
                             std::string_view("\xEF\xBF\xBF"),          // U+FFFF
                             std::string_view("\xF4\x8F\xBF\xBF"),      // U+10FFFF
                             std::string_view("\x00", 1)}) {
    EXPECT_TRUE(codec::is_valid_utf8(s)) << testing::PrintToString(std::string(s));
  }
}

TEST(Utf8, invalid_strings) {
  for (std::string_view s : {std::string_view("\x80"),              // lone continuation
                             std::string_view("\xC3"),              // truncated
                             std::string_view("\xC3\x28"),          // bad continuation
                             std::string_view("\xC0\x80"),          // overlong NUL
                             std::string_view("\xE0\x80\xAF"),      // overlong '/'
                             std::string_view("\xF0\x82\x82\xAC"),  // overlong euro
                             std::string_view("\xED\xA0\x80"),      // surrogate D800
                             std::string_view("\xED\xBF\xBF"),      // surrogate DFFF
                             std::string_view("\xF4\x90\x80\x80"),  // U+110000
                             std::string_view("\xF8\x88\x80\x80\x80"),
                             std::string_view("\xFF"),
                             std::string_view("ok\xE2\x98")}) {      // truncated at the end
    EXPECT_FALSE(codec::is_valid_utf8(s)) << testing::PrintToString(std::string(s));
  }
}

}  // namespace
}  // namespace noexpp
