#pragma once
/// Term: the one value type that crosses processes and nodes.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "noexpp/pid.hpp"

namespace noexpp {

class Term;

/// Raw bytes (Python `bytes`); kept apart from strings, which are UTF-8.
struct Binary {
  std::vector<std::uint8_t> bytes;
  friend bool operator==(const Binary&, const Binary&) = default;
};
/// A list (Python list). Tuples are a separate alternative so that a Python
/// tuple arrives as a tuple on every node.
struct List {
  std::vector<Term> items;
  friend bool operator==(const List&, const List&);
};
struct Tuple {
  std::vector<Term> items;
  friend bool operator==(const Tuple&, const Tuple&);
};
/// A map with insertion order kept (Python dicts are ordered).
struct Map {
  std::vector<std::pair<Term, Term>> items;
  friend bool operator==(const Map&, const Map&);
};

/// Maximum nesting of containers (lists, tuples, maps), checked when a Term is
/// built from Python and when one is decoded, so a hostile or runaway value
/// cannot blow the stack. A value may hold this many containers one inside
/// another; leaves may sit inside the innermost.
inline constexpr int kMaxTermDepth = 200;

class Term {
 public:
  using Value = std::variant<std::monostate, bool, std::int64_t, double, std::string, Binary,
                             List, Tuple, Map, Pid>;
  enum class Type : std::uint8_t { nil, boolean, integer, floating, string, binary, list, tuple, map, pid };

  Term() = default;
  Term(std::nullptr_t) {}
  Term(bool b) : v_(b) {}
  Term(int i) : v_(std::int64_t(i)) {}
  Term(long i) : v_(std::int64_t(i)) {}
  Term(long long i) : v_(std::int64_t(i)) {}
  Term(unsigned i) : v_(std::int64_t(i)) {}
  /// Counters and serials; values above INT64_MAX wrap (msgpack ints are int64 here).
  Term(unsigned long i) : v_(static_cast<std::int64_t>(i)) {}
  Term(double d) : v_(d) {}
  Term(const char* s) : v_(std::string(s)) {}
  Term(std::string s) : v_(std::move(s)) {}
  Term(std::string_view s) : v_(std::string(s)) {}
  Term(Binary b) : v_(std::move(b)) {}
  Term(List l) : v_(std::move(l)) {}
  Term(Tuple t) : v_(std::move(t)) {}
  Term(Map m) : v_(std::move(m)) {}
  Term(Pid p) : v_(p) {}

  static Term list(std::vector<Term> items) { return Term(List{std::move(items)}); }
  static Term tuple(std::vector<Term> items) { return Term(Tuple{std::move(items)}); }
  static Term map(std::vector<std::pair<Term, Term>> items) { return Term(Map{std::move(items)}); }

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_nil() const { return type() == Type::nil; }
  bool is_bool() const { return type() == Type::boolean; }
  bool is_int() const { return type() == Type::integer; }
  bool is_float() const { return type() == Type::floating; }
  bool is_string() const { return type() == Type::string; }
  bool is_binary() const { return type() == Type::binary; }
  bool is_list() const { return type() == Type::list; }
  bool is_tuple() const { return type() == Type::tuple; }
  bool is_map() const { return type() == Type::map; }
  bool is_pid() const { return type() == Type::pid; }

  // Accessors throw std::bad_variant_access on a type mismatch.
  bool as_bool() const { return std::get<bool>(v_); }
  std::int64_t as_int() const { return std::get<std::int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Binary& as_binary() const { return std::get<Binary>(v_); }
  const List& as_list() const { return std::get<List>(v_); }
  const Tuple& as_tuple() const { return std::get<Tuple>(v_); }
  const Map& as_map() const { return std::get<Map>(v_); }
  const Pid& as_pid() const { return std::get<Pid>(v_); }
  const Value& value() const { return v_; }
  Value& value() { return v_; }

  /// True when this is a string equal to `s` (handy for matching requests).
  bool is(std::string_view s) const { return is_string() && as_string() == s; }
  /// Item `i` of a tuple or list; nil past its end or for any other type
  /// (reading the fields of a request or message before checking them).
  const Term& at(std::size_t i) const;

  friend bool operator==(const Term& a, const Term& b) { return a.v_ == b.v_; }
  /// A readable rendering, Python-like ("[1, 'a', (2,)]"), for logs and errors.
  std::string to_string() const;
  /// As to_string, cut short ("...") past about `max_chars` characters.
  std::string to_string(std::size_t max_chars) const;

 private:
  Value v_;
};

inline bool operator==(const List& a, const List& b) { return a.items == b.items; }
inline bool operator==(const Tuple& a, const Tuple& b) { return a.items == b.items; }
inline bool operator==(const Map& a, const Map& b) { return a.items == b.items; }

}  // namespace noexpp
