#pragma once
/// msgpack encoding of Terms. Pids and tuples travel as msgpack ext types.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "noexpp/error.hpp"
#include "noexpp/term.hpp"

namespace noexpp::codec {

inline constexpr std::int8_t kExtPid = 1;    ///< payload: [node_id str, creation u32, serial u64]
inline constexpr std::int8_t kExtTuple = 2;  ///< payload: msgpack array of the items

/// Appends the msgpack encoding of `t` to `out`.
void encode(const Term& t, std::vector<char>& out);
std::vector<char> encode(const Term& t);

/// Decodes exactly one Term from `bytes`. Fails (Errc::bad_term, with a detail
/// naming the problem) on malformed data, trailing bytes, integers outside
/// int64, strings that are not UTF-8, or nesting deeper than kMaxTermDepth.
Result<Term> decode(std::span<const char> bytes);

/// True when `s` is valid UTF-8.
bool is_valid_utf8(std::string_view s);

}  // namespace noexpp::codec
