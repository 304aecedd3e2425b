#include "core/internal/codec.hpp"

#include "core/internal/node_names.hpp"

#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include <msgpack.hpp>

namespace noexpp::codec {
namespace {

struct VecWriter {
  std::vector<char>& out;
  void write(const char* p, std::size_t n) { out.insert(out.end(), p, p + n); }
};
using Packer = msgpack::packer<VecWriter>;

void pack(Packer& pk, const Term& t);

void pack_items(Packer& pk, const std::vector<Term>& items) {
  pk.pack_array(static_cast<std::uint32_t>(items.size()));
  for (const auto& i : items) pack(pk, i);
}

void pack_ext(Packer& pk, std::int8_t type, const std::vector<char>& payload) {
  pk.pack_ext(payload.size(), type);
  pk.pack_ext_body(payload.data(), static_cast<std::uint32_t>(payload.size()));
}

void pack(Packer& pk, const Term& t) {
  struct Visitor {
    Packer& pk;
    void operator()(std::monostate) { pk.pack_nil(); }
    void operator()(bool b) { b ? pk.pack_true() : pk.pack_false(); }
    void operator()(std::int64_t i) { pk.pack_int64(i); }
    void operator()(double d) {
      // Always float64: msgpack-c's pack_double writes integral values (0.0,
      // -0.0, 2.0) as integers, and a float must arrive as a float.
      char buf[9];
      buf[0] = static_cast<char>(0xcb);
      std::uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
      pk.pack_bin_body(buf, sizeof buf);  // the *_body calls append bytes verbatim
    }
    void operator()(const std::string& s) {
      pk.pack_str(static_cast<std::uint32_t>(s.size()));
      pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
    }
    void operator()(const Binary& b) {
      pk.pack_bin(static_cast<std::uint32_t>(b.bytes.size()));
      pk.pack_bin_body(reinterpret_cast<const char*>(b.bytes.data()),
                       static_cast<std::uint32_t>(b.bytes.size()));
    }
    void operator()(const List& l) { pack_items(pk, l.items); }
    void operator()(const Tuple& tu) {
      std::vector<char> payload;
      VecWriter w{payload};
      Packer inner(w);
      pack_items(inner, tu.items);
      pack_ext(pk, kExtTuple, payload);
    }
    void operator()(const Map& m) {
      pk.pack_map(static_cast<std::uint32_t>(m.items.size()));
      for (const auto& [k, v] : m.items) {
        pack(pk, k);
        pack(pk, v);
      }
    }
    void operator()(const Pid& p) {
      std::vector<char> payload;
      VecWriter w{payload};
      Packer inner(w);
      inner.pack_array(3);
      const auto& name = node_name(p.node);
      inner.pack_str(static_cast<std::uint32_t>(name.size()));
      inner.pack_str_body(name.data(), static_cast<std::uint32_t>(name.size()));
      inner.pack_uint32(p.creation);
      inner.pack_uint64(p.serial);
      pack_ext(pk, kExtPid, payload);
    }
  };
  std::visit(Visitor{pk}, t.value());
}

Error bad(std::string detail) { return Error{Errc::bad_term, std::move(detail)}; }

std::string too_deep() { return "nesting deeper than " + std::to_string(kMaxTermDepth) + " levels"; }

/// A pid's ext payload, [node_id str, creation u32, serial u64], read as a
/// fixed structure: nothing nested, nothing else accepted.
struct PidVisitor : msgpack::null_visitor {
  int step = 0;  // 0: the array, 1: node id, 2: creation, 3: serial, 4: done
  bool ok = true;
  std::string_view node;
  std::uint64_t creation = 0, serial = 0;

  bool fail() { return ok = false; }
  bool visit_nil() { return fail(); }
  bool visit_boolean(bool) { return fail(); }
  bool visit_negative_integer(std::int64_t) { return fail(); }
  bool visit_float32(float) { return fail(); }
  bool visit_float64(double) { return fail(); }
  bool visit_bin(const char*, std::uint32_t) { return fail(); }
  bool visit_ext(const char*, std::uint32_t) { return fail(); }
  bool start_map(std::uint32_t) { return fail(); }
  bool start_array(std::uint32_t n) { return step++ == 0 && n == 3 ? true : fail(); }
  bool visit_str(const char* v, std::uint32_t n) {
    if (step++ != 1) return fail();
    node = {v, n};
    return true;
  }
  bool visit_positive_integer(std::uint64_t v) {
    if (step == 2) creation = v;
    else if (step == 3) serial = v;
    else return fail();
    ++step;
    return true;
  }
};

/// Builds Terms straight from msgpack-c's parser events (no msgpack::object
/// tree in between). Hostile input is bounded three ways: nesting counts
/// every container, a tuple's payload included, across ext boundaries; a
/// container may not declare more elements than there are bytes left in the
/// whole input (each element takes at least one), so memory stays within
/// sizeof(Term) per input byte plus the strings' bytes; and a pid names a
/// node id of bounded length, interned only while the table has room.
class TermBuilder : public msgpack::null_visitor {
 public:
  explicit TermBuilder(std::size_t input_bytes) : element_budget_(input_bytes) {}

  /// Parses `data` as exactly one value at the current depth (the whole
  /// input, or a tuple's payload); the value goes where the next one would.
  bool parse_value(const char* data, std::size_t size) {
    std::size_t offset = 0;
    bool ok = false;
    try {
      ok = msgpack::parse(data, size, offset, *this);
    } catch (const std::exception& e) {
      return fail(std::string("malformed msgpack: ") + e.what());
    }
    if (!ok) return error_.empty() ? fail("malformed msgpack") : false;
    if (offset != size) return fail(std::to_string(size - offset) + " trailing bytes after the value");
    return true;
  }

  Result<Term> result() {
    if (!error_.empty()) return bad(error_);
    if (!root_) return bad("no value");
    return std::move(*root_);
  }

  bool visit_nil() { return put(Term()); }
  bool visit_boolean(bool v) { return put(Term(v)); }
  bool visit_positive_integer(std::uint64_t v) {
    if (v > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
      return fail("integer " + std::to_string(v) + " does not fit in int64");
    return put(Term(static_cast<long long>(v)));
  }
  bool visit_negative_integer(std::int64_t v) { return put(Term(static_cast<long long>(v))); }
  bool visit_float32(float v) { return put(Term(static_cast<double>(v))); }
  bool visit_float64(double v) { return put(Term(v)); }
  bool visit_str(const char* v, std::uint32_t n) {
    std::string_view s(v, n);
    if (!is_valid_utf8(s)) return fail("string is not valid UTF-8");
    return put(Term(std::string(s)));
  }
  bool visit_bin(const char* v, std::uint32_t n) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(v);
    return put(Term(Binary{{p, p + n}}));
  }
  bool visit_ext(const char* v, std::uint32_t n) {
    if (tuple_next_) return fail("tuple payload is not an array");
    if (n == 0) return fail("ext without a type");
    const auto type = static_cast<std::int8_t>(v[0]);
    if (type == kExtTuple) {
      // The payload is the tuple's array, one level like any container.
      tuple_next_ = true;
      const std::size_t open = open_.size();
      if (!parse_value(v + 1, n - 1)) return false;
      if (tuple_next_ || open_.size() != open) return fail("tuple payload is not an array");
      return true;
    }
    if (type == kExtPid) return put_pid(v + 1, n - 1);
    return fail("unknown msgpack ext type " + std::to_string(type));
  }
  bool start_array(std::uint32_t n) {
    if (!open(n)) return false;
    open_.push_back({std::exchange(tuple_next_, false) ? Open::Kind::tuple : Open::Kind::list, {}, {}, {}});
    open_.back().items.reserve(n);
    return true;
  }
  bool end_array() {
    Open o = std::move(open_.back());
    open_.pop_back();
    return put(o.kind == Open::Kind::tuple ? Term::tuple(std::move(o.items)) : Term::list(std::move(o.items)));
  }
  bool start_map(std::uint32_t n) {
    if (tuple_next_) return fail("tuple payload is not an array");
    // A pair takes two elements: the count must fit twice.
    if (!open(n) || !spend(n)) return false;
    open_.push_back({Open::Kind::map, {}, {}, {}});
    open_.back().map.items.reserve(n);
    return true;
  }
  bool end_map() {
    Map m = std::move(open_.back().map);
    open_.pop_back();
    return put(Term(std::move(m)));
  }
  void parse_error(std::size_t, std::size_t) { fail("malformed msgpack"); }
  void insufficient_bytes(std::size_t, std::size_t) { fail("truncated msgpack data"); }

 private:
  struct Open {
    enum class Kind : std::uint8_t { list, tuple, map } kind;
    std::vector<Term> items;
    Map map;
    std::optional<Term> key;  ///< a map's key waiting for its value
  };

  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }
  bool spend(std::uint64_t elements) {
    if (elements > element_budget_) return fail("a container declares more elements than the input has bytes");
    element_budget_ -= elements;
    return true;
  }
  /// A new container of `n` elements at the current depth.
  bool open(std::uint32_t n) {
    if (open_.size() >= static_cast<std::size_t>(kMaxTermDepth)) return fail(too_deep());
    return spend(n);
  }
  bool put(Term t) {
    if (tuple_next_) return fail("tuple payload is not an array");
    if (open_.empty()) {
      if (root_) return fail("more than one value");
      root_ = std::move(t);
      return true;
    }
    auto& top = open_.back();
    if (top.kind != Open::Kind::map) {
      top.items.push_back(std::move(t));
    } else if (!top.key) {
      top.key = std::move(t);
    } else {
      top.map.items.emplace_back(std::move(*top.key), std::move(t));
      top.key.reset();
    }
    return true;
  }
  bool put_pid(const char* data, std::size_t size) {
    PidVisitor pv;
    std::size_t offset = 0;
    bool parsed = false;
    try {
      parsed = msgpack::parse(data, size, offset, pv);
    } catch (const std::exception&) {
      parsed = false;
    }
    if (!parsed || !pv.ok || pv.step != 4 || offset != size || pv.creation > std::numeric_limits<std::uint32_t>::max() ||
        pv.serial > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
      return fail("malformed pid");
    if (pv.node.size() > kMaxNodeIdLength || !is_valid_utf8(pv.node)) return fail("malformed pid: bad node id");
    auto index = intern_node_name_bounded(pv.node);
    if (!index) return fail("a pid names a new node id, and " + std::to_string(kMaxNodeNames) + " are known already");
    return put(Term(Pid{*index, static_cast<std::uint32_t>(pv.creation), pv.serial}));
  }

  std::vector<Open> open_;
  std::optional<Term> root_;
  std::uint64_t element_budget_;
  bool tuple_next_ = false;  ///< the next array is a tuple's payload
  std::string error_;
};

}  // namespace

void encode(const Term& t, std::vector<char>& out) {
  VecWriter w{out};
  Packer pk(w);
  pack(pk, t);
}

std::vector<char> encode(const Term& t) {
  std::vector<char> out;
  encode(t, out);
  return out;
}

Result<Term> decode(std::span<const char> bytes) {
  TermBuilder b(bytes.size());
  b.parse_value(bytes.data(), bytes.size());
  return b.result();
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0, n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c >> 5) == 0x6) { len = 2; cp = c & 0x1f; }
    else if ((c >> 4) == 0xe) { len = 3; cp = c & 0x0f; }
    else if ((c >> 3) == 0x1e) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += len;
  }
  return true;
}

}  // namespace noexpp::codec
