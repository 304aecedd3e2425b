#include "cluster/handshake_crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>
#include <cstdint>
#include <stdexcept>

namespace noexpp::cluster {
namespace {

/// OpenSSL's reason for the last failure, for an exception message.
std::string openssl_error(const char* what) {
  std::string out = what;
  if (unsigned long code = ERR_get_error(); code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

void append_length_prefixed(std::string& out, std::string_view field) {
  if (field.size() > UINT32_MAX) throw std::length_error("handshake_proof: field longer than 4 GiB");
  const auto n = static_cast<std::uint32_t>(field.size());
  out += static_cast<char>((n >> 24) & 0xff);
  out += static_cast<char>((n >> 16) & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  out += static_cast<char>(n & 0xff);
  out += field;
}

}  // namespace

std::string random_nonce() {
  std::string nonce(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), static_cast<int>(nonce.size())) != 1) {
    throw std::runtime_error(openssl_error("random_nonce: RAND_bytes failed"));
  }
  return nonce;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  // The one-shot HMAC() is not deprecated in OpenSSL 3 (only HMAC_CTX is).
  // Never a null pointer, even for empty input: in OpenSSL's HMAC init
  // functions a null key means "reuse the previous key", and whether every
  // version's one-shot HMAC() guards against that is not worth finding out.
  static const unsigned char empty = 0;
  const auto* key_bytes = key.empty() ? &empty : reinterpret_cast<const unsigned char*>(key.data());
  const auto* data_bytes = data.empty() ? &empty : reinterpret_cast<const unsigned char*>(data.data());
  if (key.size() > static_cast<std::size_t>(INT_MAX)) throw std::length_error("hmac_sha256: key longer than INT_MAX");
  std::string mac(EVP_MAX_MD_SIZE, '\0');
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), data_bytes, data.size(),
           reinterpret_cast<unsigned char*>(mac.data()), &mac_len) == nullptr) {
    throw std::runtime_error(openssl_error("hmac_sha256: HMAC failed"));
  }
  mac.resize(mac_len);
  return mac;
}

std::string handshake_proof(std::string_view cookie, char role, std::string_view nonce, std::string_view node_id) {
  std::string message;
  message.reserve(1 + 4 + nonce.size() + 4 + node_id.size());
  message += role;
  append_length_prefixed(message, nonce);
  append_length_prefixed(message, node_id);
  return hmac_sha256(cookie, message);
}

bool proofs_equal(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty() || a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace noexpp::cluster
