// The handshake's cryptography: HMAC-SHA256 against the RFC 4231 vectors,
// fresh nonces, proofs bound to every input (and to the direction), and the
// constant-time comparison.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "cluster/handshake_crypto.hpp"

namespace noexpp::test {
namespace {

using cluster::handshake_proof;
using cluster::hmac_sha256;
using cluster::kAcceptingRole;
using cluster::kConnectingRole;
using cluster::proofs_equal;

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

std::string repeat(unsigned char byte, std::size_t n) { return std::string(n, static_cast<char>(byte)); }

std::string be32(std::uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 8) & 0xff),
          static_cast<char>(n & 0xff)};
}

struct Rfc4231Case {
  int number;
  std::string key;
  std::string data;
  std::string hmac_hex;
};

TEST(HmacSha256, MatchesRfc4231TestVectors) {
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4 += static_cast<char>(i);
  const std::vector<Rfc4231Case> cases = {
      {1, repeat(0x0b, 20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {2, "Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {3, repeat(0xaa, 20), repeat(0xdd, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {4, key4, repeat(0xcd, 50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {6, repeat(0xaa, 131), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {7, repeat(0xaa, 131),
       "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
       "hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& c : cases) {
    const std::string mac = hmac_sha256(c.key, c.data);
    EXPECT_EQ(mac.size(), 32u) << "case " << c.number;
    EXPECT_EQ(hex(mac), c.hmac_hex) << "case " << c.number;
  }
}

TEST(HmacSha256, EmptyKeyAndDataAreFine) {
  EXPECT_EQ(hex(hmac_sha256("", "")), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(RandomNonce, NoncesAreKNonceBytesAndFresh) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string n = cluster::random_nonce();
    EXPECT_EQ(n.size(), cluster::kNonceBytes);
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(HandshakeProof, ProofIsThirtyTwoBytesAndDeterministic) {
  const std::string nonce = cluster::random_nonce();
  const auto a = handshake_proof("cookie", kConnectingRole, nonce, "alpha@127.0.0.1:4370");
  EXPECT_EQ(a.size(), cluster::kProofBytes);
  EXPECT_EQ(a, handshake_proof("cookie", kConnectingRole, nonce, "alpha@127.0.0.1:4370"));
}

TEST(HandshakeProof, ProofHasTheDocumentedLayout) {
  // Pinned so that any other implementation of the handshake (another
  // language, a later version) can compute the same bytes.
  const std::string nonce = repeat(0x5a, cluster::kNonceBytes);
  const std::string id = "alpha@127.0.0.1:4370";
  const std::string expected = hmac_sha256("cookie", std::string("A") + be32(32) + nonce + be32(20) + id);
  EXPECT_EQ(handshake_proof("cookie", 'A', nonce, id), expected);
}

TEST(HandshakeProof, ProofCannotBeReflectedInTheOtherDirection) {
  const std::string nonce = cluster::random_nonce();
  EXPECT_NE(handshake_proof("cookie", kConnectingRole, nonce, "a@h:1"),
            handshake_proof("cookie", kAcceptingRole, nonce, "a@h:1"));
}

TEST(HandshakeProof, ProofDependsOnEveryInput) {
  const std::string nonce = cluster::random_nonce();
  const auto base = handshake_proof("cookie", kConnectingRole, nonce, "a@h:1");
  EXPECT_NE(base, handshake_proof("cookie2", kConnectingRole, nonce, "a@h:1"));
  EXPECT_NE(base, handshake_proof("cookie", kConnectingRole, cluster::random_nonce(), "a@h:1"));
  EXPECT_NE(base, handshake_proof("cookie", kConnectingRole, nonce, "a@h:2"));
}

TEST(HandshakeProof, FieldBoundariesAreUnambiguous) {
  // Without length prefixes these two would hash the same bytes "Aabc".
  EXPECT_NE(handshake_proof("cookie", kConnectingRole, "ab", "c"), handshake_proof("cookie", kConnectingRole, "a", "bc"));
}

TEST(ProofsEqual, EqualProofsMatch) {
  const auto p = handshake_proof("cookie", kConnectingRole, cluster::random_nonce(), "a@h:1");
  EXPECT_TRUE(proofs_equal(p, std::string(p)));
}

TEST(ProofsEqual, AnyDifferingByteFails) {
  const auto p = handshake_proof("cookie", kConnectingRole, cluster::random_nonce(), "a@h:1");
  for (std::size_t i = 0; i < p.size(); ++i) {
    std::string q = p;
    q[i] = static_cast<char>(q[i] ^ 0x01);
    EXPECT_FALSE(proofs_equal(p, q)) << "byte " << i;
  }
}

TEST(ProofsEqual, DifferentLengthsFail) {
  const auto p = handshake_proof("cookie", kConnectingRole, cluster::random_nonce(), "a@h:1");
  EXPECT_FALSE(proofs_equal(p, p.substr(0, 31)));
  EXPECT_FALSE(proofs_equal(p, p + "x"));
}

TEST(ProofsEqual, EmptyProofsNeverMatch) {
  // A missing proof must not satisfy a missing expectation.
  EXPECT_FALSE(proofs_equal("", ""));
  EXPECT_FALSE(proofs_equal("", "x"));
}

}  // namespace
}  // namespace noexpp::test
