#pragma once
// The fixed world of fuzz_handshake, shared with seedgen so that its seeds
// carry proofs the target accepts: the cookie, both nodes' ids and nonces,
// and the layout of an input.
//
// An input is one flags byte, then the bytes the peer sends, as on the
// wire: frames of a 4-byte big-endian length and a msgpack body.
//   bit 0      this node's side: 0 accepts (the frames are a dialling
//              peer's), 1 dials kPeerId (the frames are the acceptor's)
//   bits 1-2   what the admission rule answers an authenticated peer
//              (kAdmitAnswers): "" admits it
//   bit 3      the hidden flag of this node's hello (when it dials)
//   bit 4      loopback: no peer bytes; this node's two machines talk to each
//              other through encode_frame / decode_frame, the acceptor with
//              kCookie and the initiator with the rest of the input as its
//              cookie (the handshake completes exactly when they match)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/wire.hpp"

namespace noexpp::fuzz_handshake {

inline constexpr std::string_view kCookie = "fuzz-cookie";
inline constexpr std::string_view kLocalId = "fuzz@127.0.0.1:1";
inline constexpr std::uint32_t kLocalCreation = 1;
inline constexpr std::string_view kPeerId = "peer@127.0.0.1:2";
inline constexpr std::int64_t kPeerCreation = 7;
/// This node's nonce (as acceptor and as initiator) and the peer's.
inline const std::string kLocalNonce(32, 'L');
inline const std::string kPeerNonce(32, 'P');

inline constexpr std::uint8_t kDials = 1;
inline constexpr std::uint8_t kAdmitShift = 1;
inline constexpr std::uint8_t kHidden = 8;
inline constexpr std::uint8_t kLoopback = 16;
inline constexpr const char* kAdmitAnswers[4] = {"", "duplicate", "partitioned", "identity"};

/// An input: `flags`, then each body behind its length header.
inline std::vector<char> make_input(std::uint8_t flags, const std::vector<std::vector<char>>& bodies) {
  std::vector<char> out{static_cast<char>(flags)};
  for (const auto& b : bodies) {
    const auto n = static_cast<std::uint32_t>(b.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (24 - 8 * i)) & 0xff));
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

}  // namespace noexpp::fuzz_handshake
