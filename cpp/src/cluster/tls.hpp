#pragma once
// TLS for the cluster transport (ClusterOptions::tls): the context that the
// connections of one node share, loaded and checked once from the options,
// and the words a connection uses when a TLS handshake fails or when the
// peer's TLS setting differs from this node's. A TLS stream is touched by
// the network thread only (an SSL object is not thread-safe), so with TLS a
// connection has no direct-write path for other threads.
#include <asio.hpp>
#include <asio/ssl.hpp>
#include <memory>
#include <span>
#include <string>

#include "noexpp/cluster/options.hpp"

namespace noexpp::cluster {

/// A connection's TLS layer over its TCP socket (which the connection owns).
using TlsStream = asio::ssl::stream<asio::ip::tcp::socket&>;

/// The context of a node with TLS: TLS 1.2 or newer (1.3 preferred), this
/// node's certificate and key, every peer's certificate verified against
/// the CA in both directions (a peer without one is refused), no session
/// resumption and no renegotiation. Loads and checks all three files first:
/// throws ErrorException(ClusterErrc::tls_config_failed) naming the file and
/// what is wrong (missing, unreadable, not PEM, an encrypted key, a key that
/// does not match the certificate, a certificate the CA did not sign or
/// that cannot serve both as a TLS client and a TLS server). Thread: any.
std::unique_ptr<asio::ssl::context> make_tls_context(const TlsOptions& o);

/// True for an error of the TLS layer (a failed handshake, an alert from
/// the peer, a bad record), as opposed to one of the socket under it.
bool is_tls_error(const std::error_code& ec);

/// True when a TLS server's handshake failed because the client's first
/// bytes are no TLS record: a peer with TLS off, sending its hello.
bool peer_sent_plaintext(const std::error_code& ec);

/// Why a TLS handshake failed, for the log and connect() callers: OpenSSL's
/// reason, the certificate check's verdict when that failed, and the likely
/// cause where the reason tells it (the peer has TLS off, or the peer's
/// certificate is not from this node's CA, or this node's not from its).
/// Thread: net (reads the stream's verify result).
std::string tls_failure_text(const std::error_code& ec, TlsStream& stream);

/// True when the 4 bytes of a frame header that a node without TLS read
/// are the start of a TLS record: the peer has TLS on. The header of any
/// handshake frame starts with two zero bytes (it is at most 4 KiB long).
bool starts_tls_record(const unsigned char* header);

/// A fatal TLS alert (protocol_version) in clear text: what a node without
/// TLS answers a TLS client hello with, so that the client fails at once
/// with a TLS error that tells why rather than with a bare end of stream.
std::span<const char> protocol_version_alert();

}  // namespace noexpp::cluster
