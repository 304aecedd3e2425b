// fuzz_term_codec: arbitrary bytes into the term codec (codec::decode), the
// path every frame body takes from a peer. Checks: decode never crashes,
// leaks or trips ASan/UBSan; a term that decodes re-encodes to bytes that
// decode again, to an equal term whose encoding is the same bytes (the
// encoding is canonical after one round trip).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <span>
#include <vector>

#include "core/internal/codec.hpp"

using namespace noexpp;

namespace {
[[noreturn]] void die(const char* what, const Term& t) {
  std::fprintf(stderr, "fuzz_term_codec: %s: %s\n", what, t.to_string().c_str());
  std::abort();
}

/// Term equality that treats NaN as equal to itself (through its encoding).
bool same(const Term& a, const Term& b, const std::vector<char>& ea, const std::vector<char>& eb) {
  return a == b || ea == eb;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto first = codec::decode(std::span<const char>(reinterpret_cast<const char*>(data), size));
  if (!first) {
    if (first.error().code != Errc::bad_term) std::abort();  // decode errors are bad_term, nothing else
    return 0;
  }
  const std::vector<char> bytes = codec::encode(first.value());
  auto second = codec::decode(std::span<const char>(bytes));
  if (!second) die("a decoded term does not decode after re-encoding", first.value());
  const std::vector<char> again = codec::encode(second.value());
  if (!same(first.value(), second.value(), bytes, again)) die("round trip changed the term", first.value());
  if (bytes != again) die("re-encoding is not stable", first.value());
  (void)first.value().to_string();  // printing a hostile term must be safe too
  return 0;
}
