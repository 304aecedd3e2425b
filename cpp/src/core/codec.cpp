#include "core/internal/codec.hpp"

#include <cstring>
#include <limits>

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

Result<Term> unpack_one(const char* data, std::size_t size, int depth);

Error too_deep() { return bad("nesting deeper than " + std::to_string(kMaxTermDepth) + " levels"); }

// `depth` is the number of containers around `o`; a container may sit at most
// kMaxTermDepth - 1 containers deep (kMaxTermDepth levels in all).
Result<Term> convert(const msgpack::object& o, int depth) {
  const bool container = o.type == msgpack::type::ARRAY || o.type == msgpack::type::MAP ||
                         (o.type == msgpack::type::EXT && o.via.ext.type() == kExtTuple);
  if (container && depth >= kMaxTermDepth) return too_deep();
  switch (o.type) {
    case msgpack::type::NIL: return Term();
    case msgpack::type::BOOLEAN: return Term(o.via.boolean);
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
        return bad("integer " + std::to_string(o.via.u64) + " does not fit in int64");
      return Term(static_cast<long long>(o.via.u64));
    case msgpack::type::NEGATIVE_INTEGER: return Term(static_cast<long long>(o.via.i64));
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return Term(o.via.f64);
    case msgpack::type::STR: {
      std::string s(o.via.str.ptr, o.via.str.size);
      if (!is_valid_utf8(s)) return bad("string is not valid UTF-8");
      return Term(std::move(s));
    }
    case msgpack::type::BIN: {
      const auto* p = reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr);
      return Term(Binary{{p, p + o.via.bin.size}});
    }
    case msgpack::type::ARRAY: {
      std::vector<Term> items;
      items.reserve(o.via.array.size);
      for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
        auto r = convert(o.via.array.ptr[i], depth + 1);
        if (!r) return r.error();
        items.push_back(std::move(r.value()));
      }
      return Term::list(std::move(items));
    }
    case msgpack::type::MAP: {
      Map m;
      m.items.reserve(o.via.map.size);
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        auto k = convert(o.via.map.ptr[i].key, depth + 1);
        if (!k) return k.error();
        auto v = convert(o.via.map.ptr[i].val, depth + 1);
        if (!v) return v.error();
        m.items.emplace_back(std::move(k.value()), std::move(v.value()));
      }
      return Term(std::move(m));
    }
    case msgpack::type::EXT: {
      auto type = o.via.ext.type();
      // A tuple's payload array is the tuple itself (same level); a pid's is
      // a fixed leaf structure.
      auto inner = unpack_one(o.via.ext.data(), o.via.ext.size, type == kExtTuple ? depth : 0);
      if (!inner) return inner.error();
      if (type == kExtTuple) {
        if (!inner.value().is_list()) return bad("tuple payload is not an array");
        return Term::tuple(std::move(std::get<List>(inner.value().value()).items));
      }
      if (type == kExtPid) {
        const Term& v = inner.value();
        if (!v.is_list() || v.as_list().items.size() != 3) return bad("malformed pid");
        const auto& it = v.as_list().items;
        if (!it[0].is_string() || !it[1].is_int() || !it[2].is_int() || it[1].as_int() < 0 ||
            it[1].as_int() > std::numeric_limits<std::uint32_t>::max() || it[2].as_int() < 0)
          return bad("malformed pid");
        return Term(Pid{intern_node_name(it[0].as_string()),
                        static_cast<std::uint32_t>(it[1].as_int()),
                        static_cast<std::uint64_t>(it[2].as_int())});
      }
      return bad("unknown msgpack ext type " + std::to_string(type));
    }
  }
  return bad("unsupported msgpack type");
}

Result<Term> unpack_one(const char* data, std::size_t size, int depth) {
  try {
    std::size_t offset = 0;
    // The unpack limits bound memory and recursion for hostile input.
    msgpack::unpack_limit limit(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
                                static_cast<std::size_t>(kMaxTermDepth + 2));
    auto handle = msgpack::unpack(data, size, offset, nullptr, nullptr, limit);
    if (offset != size) return bad(std::to_string(size - offset) + " trailing bytes after the value");
    return convert(handle.get(), depth);
  } catch (const msgpack::depth_size_overflow&) {
    return too_deep();
  } catch (const msgpack::insufficient_bytes&) {
    return bad("truncated msgpack data");
  } catch (const std::exception& e) {
    return bad(std::string("malformed msgpack: ") + e.what());
  }
}

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

Result<Term> decode(std::span<const char> bytes) { return unpack_one(bytes.data(), bytes.size(), 0); }

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
