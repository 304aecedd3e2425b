#pragma once
/// The cryptography of the cluster handshake: nonces, HMAC-SHA256 and the
/// proofs two nodes exchange to show they share the cookie without sending
/// it. Each side sends a fresh nonce and answers the other's nonce with a
/// proof, so a recorded proof is useless against a new connection.
///
/// Everything here is plain bytes in std::string; OpenSSL stays out of the
/// header.
#include <cstddef>
#include <string>
#include <string_view>

namespace noexpp::cluster {

/// Size of a handshake nonce.
inline constexpr std::size_t kNonceBytes = 32;
/// Size of an HMAC-SHA256, hence of a proof.
inline constexpr std::size_t kProofBytes = 32;
/// The role of the side that opened the connection.
inline constexpr char kConnectingRole = 'A';
/// The role of the side that accepted it.
inline constexpr char kAcceptingRole = 'B';

/// kNonceBytes from OpenSSL's CSPRNG (RAND_bytes). Throws std::runtime_error
/// only if that generator fails, which leaves nothing safe to do instead.
std::string random_nonce();

/// HMAC-SHA256 of `data` under `key`: 32 raw bytes. Throws
/// std::runtime_error only if OpenSSL fails (out of memory).
std::string hmac_sha256(std::string_view key, std::string_view data);

/// What a node proves it knows the cookie with: HMAC(cookie, role | nonce |
/// node_id), `role` being kConnectingRole or kAcceptingRole, so a proof can
/// never be reflected back in the other direction. `nonce` is the nonce the
/// peer sent; `node_id` is the prover's own id ("name@host:port"), binding
/// the proof to who claims to make it. The nonce and the id are each preceded
/// by their length (4 bytes, big-endian) so that no two different inputs
/// hash the same bytes (a field over 4 GiB throws std::length_error).
std::string handshake_proof(std::string_view cookie, char role, std::string_view nonce, std::string_view node_id);

/// Constant-time comparison (CRYPTO_memcmp): how long it takes does not tell
/// an attacker how many leading bytes of a guess were right. False on
/// different lengths, and false when either is empty: a missing proof must
/// never match a missing expectation.
bool proofs_equal(std::string_view a, std::string_view b);

}  // namespace noexpp::cluster
