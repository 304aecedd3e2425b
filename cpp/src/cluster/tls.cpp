#include "cluster/tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "noexpp/cluster/cluster.hpp"
#include "noexpp/error.hpp"

namespace noexpp::cluster {
namespace {

[[noreturn]] void bad(const std::string& what) {
  ERR_clear_error();
  throw ErrorException(Error{ClusterErrc::tls_config_failed, "TLS: " + what});
}

std::string quoted(const std::string& path) { return "'" + path + "'"; }

/// The reason of the oldest error OpenSSL queued (the root cause: "no start
/// line" rather than the "PEM lib" wrapped around it); clears the queue.
std::string openssl_reason() {
  const unsigned long e = ERR_peek_error();
  const char* reason = e ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return reason ? reason : "unknown OpenSSL error";
}

/// Opens `path` for reading, or says why it cannot (ENOENT, EACCES, a folder).
std::FILE* open_or_fail(const char* option, const std::string& path) {
  if (path.empty()) bad(std::string(option) + " is empty: it must name a PEM file");
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::is_directory(status)) bad(std::string(option) + " " + quoted(path) + " is a directory");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    const int err = errno;
    bad(std::string(option) + " " + quoted(path) +
        (err == ENOENT ? std::string(" does not exist") : " cannot be read: " + std::string(std::strerror(err))));
  }
  return f;
}

/// OpenSSL must never prompt on the terminal for a passphrase: a key that
/// needs one is refused with a clear error instead.
int refuse_passphrase(char*, int, int, void* asked) {
  if (asked) *static_cast<bool*>(asked) = true;
  return 0;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};

void load_certificate(SSL_CTX* ctx, const std::string& certfile) {
  std::unique_ptr<std::FILE, FileCloser> probe(open_or_fail("certfile", certfile));
  if (SSL_CTX_use_certificate_chain_file(ctx, certfile.c_str()) != 1)
    bad("certfile " + quoted(certfile) + " holds no usable PEM certificate (" + openssl_reason() + ")");
}

void load_key(SSL_CTX* ctx, const std::string& keyfile, const std::string& certfile) {
  std::unique_ptr<std::FILE, FileCloser> f(open_or_fail("keyfile", keyfile));
  bool asked = false;
  std::unique_ptr<EVP_PKEY, KeyFree> key(PEM_read_PrivateKey(f.get(), nullptr, refuse_passphrase, &asked));
  if (!key && asked)
    bad("keyfile " + quoted(keyfile) +
        " is encrypted with a passphrase; noexpp needs an unencrypted key (protect the file with its permissions)");
  if (!key) bad("keyfile " + quoted(keyfile) + " holds no PEM private key (" + openssl_reason() + ")");
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (!cert || X509_check_private_key(cert, key.get()) != 1)
    bad("keyfile " + quoted(keyfile) + " does not match the certificate in certfile " + quoted(certfile));
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1)
    bad("keyfile " + quoted(keyfile) + " cannot be used (" + openssl_reason() + ")");
}

void load_ca(SSL_CTX* ctx, const std::string& cafile) {
  std::unique_ptr<std::FILE, FileCloser> probe(open_or_fail("cafile", cafile));
  if (SSL_CTX_load_verify_locations(ctx, cafile.c_str(), nullptr) != 1)
    bad("cafile " + quoted(cafile) + " holds no usable PEM certificate (" + openssl_reason() + ")");
}

/// The verdict of the CA on this node's own certificate for `purpose`
/// (X509_V_OK when it passes): peers would reach the same one.
int verify_own_certificate(SSL_CTX* ctx, int purpose) {
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> check(X509_STORE_CTX_new());
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx, &chain);
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  if (!check || X509_STORE_CTX_init(check.get(), SSL_CTX_get_cert_store(ctx), leaf, chain) != 1)
    bad("cannot check the certificate (" + openssl_reason() + ")");
  X509_STORE_CTX_set_purpose(check.get(), purpose);
  const int ok = X509_verify_cert(check.get());
  const int err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(check.get());
  ERR_clear_error();
  return err;
}

void check_own_certificate(SSL_CTX* ctx, const TlsOptions& o) {
  // Every node both accepts (a TLS server) and dials (a TLS client).
  for (int purpose : {X509_PURPOSE_SSL_SERVER, X509_PURPOSE_SSL_CLIENT}) {
    const int err = verify_own_certificate(ctx, purpose);
    if (err == X509_V_OK) continue;
    if (err == X509_V_ERR_INVALID_PURPOSE)
      bad("certfile " + quoted(o.certfile) + " cannot serve as a TLS " +
          (purpose == X509_PURPOSE_SSL_SERVER ? "server" : "client") +
          " certificate, and every node is both: its extendedKeyUsage must allow serverAuth and clientAuth"
          " (or be absent)");
    bad("certfile " + quoted(o.certfile) + " does not verify against cafile " + quoted(o.cafile) + ": " +
        X509_verify_cert_error_string(err));
  }
}

bool ssl_reason_is(const std::error_code& ec, std::initializer_list<int> reasons) {
  if (!is_tls_error(ec)) return false;
  const auto e = static_cast<unsigned long>(ec.value());
  if (ERR_GET_LIB(e) != ERR_LIB_SSL) return false;
  for (int r : reasons)
    if (ERR_GET_REASON(e) == r) return true;
  return false;
}

}  // namespace

std::unique_ptr<asio::ssl::context> make_tls_context(const TlsOptions& o) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_default_passwd_cb(ctx, refuse_passphrase);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.2 suites: forward secrecy and AEAD only (1.3 has nothing else).
  SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
  // Connections are long-lived and never resumed: no tickets, no cache.
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // Mutual: each side verifies the other's chain up to the CA, and a server
  // refuses a client that presents no certificate. No host name check.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  load_certificate(ctx, o.certfile);
  load_key(ctx, o.keyfile, o.certfile);
  load_ca(ctx, o.cafile);
  check_own_certificate(ctx, o);
  ERR_clear_error();
  return context;
}

bool is_tls_error(const std::error_code& ec) { return ec.category() == asio::error::get_ssl_category(); }

bool peer_sent_plaintext(const std::error_code& ec) {
  return ssl_reason_is(ec, {SSL_R_WRONG_VERSION_NUMBER, SSL_R_UNKNOWN_PROTOCOL, SSL_R_HTTP_REQUEST});
}

std::string tls_failure_text(const std::error_code& ec, TlsStream& stream) {
  if (!is_tls_error(ec)) return ec.message();
  const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
  std::string text = reason ? reason : ec.message();
  if (ssl_reason_is(ec, {SSL_R_CERTIFICATE_VERIFY_FAILED})) {
    const long verdict = SSL_get_verify_result(stream.native_handle());
    text += " (" + std::string(X509_verify_cert_error_string(verdict)) +
            "): the peer's certificate does not verify against this node's cafile";
  } else if (peer_sent_plaintext(ec)) {
    text += ": the peer does not speak TLS (is TLS off at that node?)";
  } else if (ssl_reason_is(ec, {SSL_R_TLSV1_ALERT_PROTOCOL_VERSION})) {
    text += ": the peer refused TLS (is TLS off at that node?)";
  } else if (ssl_reason_is(ec, {SSL_R_TLSV1_ALERT_UNKNOWN_CA, SSL_R_SSLV3_ALERT_BAD_CERTIFICATE,
                                SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN, SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED,
                                SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE, SSL_R_TLSV1_ALERT_DECRYPT_ERROR,
                                SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED})) {
    text += ": the peer refused this node's certificate (is it signed by the CA that node trusts?)";
  } else if (ssl_reason_is(ec, {SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE})) {
    text += ": the peer presented no certificate";
  }
  return text;
}

bool starts_tls_record(const unsigned char* header) {
  // Content types 20-23 (change_cipher_spec, alert, handshake,
  // application_data), then major version 3.
  return header[0] >= 20 && header[0] <= 23 && header[1] == 3;
}

std::span<const char> protocol_version_alert() {
  // Record: type alert (21), version TLS 1.2, length 2; alert: fatal (2), protocol_version (70).
  static constexpr char kAlert[] = {21, 3, 3, 0, 2, 2, 70};
  return {kAlert, sizeof kAlert};
}

}  // namespace noexpp::cluster
