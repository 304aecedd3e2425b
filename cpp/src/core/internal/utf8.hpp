#pragma once
// Cutting text that may be UTF-8 without splitting a character: reports and
// logs are cut to a bound, and Python refuses a str with half a character.
#include <cstddef>
#include <string>

namespace noexpp::utf8 {

inline bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// The first `max_bytes` of `s` or fewer, ending on a character boundary.
inline std::string prefix(const std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t end = max_bytes;
  while (end > 0 && is_continuation(s[end])) --end;
  return s.substr(0, end);
}

/// The last `max_bytes` of `s` or fewer, starting on a character boundary.
inline std::string suffix(const std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t begin = s.size() - max_bytes;
  while (begin < s.size() && is_continuation(s[begin])) ++begin;
  return s.substr(begin);
}

}  // namespace noexpp::utf8
