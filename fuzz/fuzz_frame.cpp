// fuzz_frame: arbitrary bytes as a frame body (cluster::decode_frame, what
// a connection's reader runs on every frame after the length header).
// Checks: never crashes; a frame that decodes re-encodes with encode_frame
// (with the largest frame allowed) to a length-prefixed body that decodes
// to the same kind and items, and whose header announces its length.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <span>

#include "cluster/wire.hpp"
#include "core/internal/codec.hpp"

using namespace noexpp;
using namespace noexpp::cluster;

namespace {
[[noreturn]] void die(const char* what, const Frame& f) {
  std::fprintf(stderr, "fuzz_frame: %s (kind %s, %zu items)\n", what, to_string(f.kind), f.items.size());
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto first = decode_frame(std::span<const char>(reinterpret_cast<const char*>(data), size));
  if (!first) {
    if (first.error().code != Errc::bad_term) std::abort();
    return 0;
  }
  const Frame& f = first.value();
  if (!is_known_kind(static_cast<std::int64_t>(f.kind))) die("decoded an unknown kind", f);
  auto encoded = encode_frame(f.kind, f.items, std::numeric_limits<std::uint32_t>::max());
  if (!encoded) die("a decoded frame does not re-encode", f);
  const auto& bytes = encoded.value();
  if (bytes.size() < kFrameHeaderBytes) die("encoded frame shorter than its header", f);
  const auto body = std::span<const char>(bytes).subspan(kFrameHeaderBytes);
  if (frame_length(reinterpret_cast<const unsigned char*>(bytes.data())) != body.size())
    die("the header does not announce the body's length", f);
  auto second = decode_frame(body);
  if (!second) die("a re-encoded frame does not decode", f);
  if (second.value().kind != f.kind) die("round trip changed the kind", f);
  if (second.value().items != f.items) {
    // NaN is not equal to itself: compare encodings before calling it a bug.
    if (codec::encode(Term::list(second.value().items)) != codec::encode(Term::list(f.items)))
      die("round trip changed the items", f);
  }
  // A frame too large for the limit is refused, not truncated.
  if (body.size() > 1) {
    auto small = encode_frame(f.kind, f.items, body.size() - 1);
    if (small || small.error().code != Errc::message_too_large) die("max_frame not enforced", f);
  }
  return 0;
}
