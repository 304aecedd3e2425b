#pragma once
/// A throwaway PKI for the TLS suites, made with OpenSSL's C API at test
/// time in a fresh temporary folder: CAs, node certificates signed by them,
/// and the broken files a configuration check must refuse. EC P-256 keys,
/// so that making them takes milliseconds.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

namespace noexpp::test {

class TestPki {
 public:
  /// A key and its certificate, held in memory and written as PEM files.
  struct Identity {
    std::shared_ptr<EVP_PKEY> key;
    std::shared_ptr<X509> cert;
    std::string certfile, keyfile;
  };

  TestPki() {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("noexpp-tls-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
  }
  ~TestPki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  /// A self-signed CA certificate (and its key), written as `<name>.pem`.
  Identity make_ca(const std::string& name) {
    auto key = new_key();
    auto cert = sign(key.get(), name, nullptr, key.get(), true, "", 0, 3650);
    return write(name, key, cert);
  }

  /// A node certificate signed by `ca`: `<name>.pem` and `<name>.key`.
  /// `eku` "": usable as TLS client and server; validity in days from now.
  Identity make_node(const std::string& name, const Identity& ca, const std::string& eku = "serverAuth,clientAuth",
                     long from_days = 0, long to_days = 365) {
    auto key = new_key();
    auto cert = sign(key.get(), name, ca.cert.get(), ca.key.get(), false, eku, from_days, to_days);
    return write(name, key, cert);
  }

  /// Writes `text` to a file of the folder; returns its path.
  std::string write_text(const std::string& name, const std::string& text) const {
    const auto p = path(name);
    std::FILE* f = std::fopen(p.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + p);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
    return p;
  }

  /// `id`'s key written encrypted with a passphrase.
  std::string write_encrypted_key(const std::string& name, const Identity& id) const {
    const auto p = path(name);
    std::FILE* f = std::fopen(p.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + p);
    static const char kPass[] = "passphrase";
    PEM_write_PKCS8PrivateKey(f, id.key.get(), EVP_aes_256_cbc(), const_cast<char*>(kPass), sizeof kPass - 1, nullptr,
                              nullptr);
    std::fclose(f);
    return p;
  }

  /// The certificates of `files` in one PEM file (a CA bundle).
  std::string concat(const std::string& name, std::initializer_list<std::string> files) const {
    std::string all;
    for (auto& file : files) {
      std::FILE* f = std::fopen(file.c_str(), "rb");
      if (!f) throw std::runtime_error("cannot read " + file);
      char buf[4096];
      for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) all.append(buf, n);
      std::fclose(f);
    }
    return write_text(name, all);
  }

 private:
  static std::shared_ptr<EVP_PKEY> new_key() {
    std::shared_ptr<EVP_PKEY> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    if (!key) throw std::runtime_error("EC key generation failed");
    return key;
  }

  static void add_ext(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
    if (!ext) throw std::runtime_error("bad extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }

  std::shared_ptr<X509> sign(EVP_PKEY* key, const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key, bool ca,
                             const std::string& eku, long from_days, long to_days) {
    std::shared_ptr<X509> cert(X509_new(), X509_free);
    X509* x = cert.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), next_serial_++);
    X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400 - 60);
    X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, nullptr, nullptr, 0);
    add_ext(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(x, &ctx, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment");
    add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (!eku.empty()) add_ext(x, &ctx, NID_ext_key_usage, eku);
    if (X509_sign(x, issuer_key, EVP_sha256()) == 0) throw std::runtime_error("signing failed");
    return cert;
  }

  Identity write(const std::string& name, std::shared_ptr<EVP_PKEY> key, std::shared_ptr<X509> cert) {
    Identity id{std::move(key), std::move(cert), path(name + ".pem"), path(name + ".key")};
    std::FILE* c = std::fopen(id.certfile.c_str(), "wb");
    std::FILE* k = std::fopen(id.keyfile.c_str(), "wb");
    if (!c || !k) throw std::runtime_error("cannot write into " + dir_.string());
    PEM_write_X509(c, id.cert.get());
    PEM_write_PrivateKey(k, id.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(c);
    std::fclose(k);
    std::filesystem::permissions(id.keyfile, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return id;
  }

  std::filesystem::path dir_;
  long next_serial_ = 1;
};

}  // namespace noexpp::test
