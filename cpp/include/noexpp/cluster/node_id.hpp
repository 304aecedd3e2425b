#pragma once
/// Node identities ("name@host:port") and listen addresses ("host:port").
///
/// A node id is both a name and the address its node listens on, so a peer
/// can be dialled from its id alone. Parsing is strict and canonical: an id
/// that parses has exactly one spelling (no leading zeros in the port, no
/// whitespace), so `to_string()` of a parsed id gives back the input, and the
/// string form can be used where bytes must match on both sides (handshake
/// proofs, registries keyed by id). Host names are compared as spelled: no
/// case folding and no DNS resolution happens here.
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "noexpp/error.hpp"

namespace noexpp::cluster {

/// Longest node name accepted (the part before '@').
inline constexpr std::size_t kMaxNodeNameLength = 255;
/// Longest host accepted: a DNS name is at most 253 characters.
inline constexpr std::size_t kMaxHostLength = 253;

/// The identity of a node: its name and the address it listens on.
struct NodeId {
  std::string name;
  std::string host;
  std::uint16_t port = 0;

  /// "name@host:port".
  std::string to_string() const;
  friend auto operator<=>(const NodeId&, const NodeId&) = default;
};

/// Parses "name@host:port": name non-empty, [A-Za-z0-9_.-] only, at most 255
/// characters; host non-empty, an IPv4 address in dotted form or a host name
/// (labels of [A-Za-z0-9_-], no '@'); port 1..65535 (port 0 means "any free
/// port" when listening, so it cannot identify a node). Errors are
/// Errc::invalid_argument with a detail naming what was wrong.
Result<NodeId> parse_node_id(std::string_view id);

/// A listen or dial address.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;

  /// "host:port".
  std::string to_string() const;
  friend auto operator<=>(const HostPort&, const HostPort&) = default;
};

/// Parses "host:port", e.g. "127.0.0.1:4370". Same host rules as
/// parse_node_id; port 0..65535 (0 asks the OS for any free port).
Result<HostPort> parse_host_port(std::string_view s);

/// True when `name` can be the name part of a node id: non-empty, at most
/// kMaxNodeNameLength characters, only [A-Za-z0-9_.-].
bool is_valid_node_name(std::string_view name);

/// Why `name` cannot be the name part of a node id ("name is empty", "name
/// has invalid character ..."), or "" when it can.
std::string node_name_problem(std::string_view name);

}  // namespace noexpp::cluster
