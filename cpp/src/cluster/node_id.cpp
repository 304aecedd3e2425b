#include "noexpp/cluster/node_id.hpp"

#include <algorithm>
#include <cstdio>

namespace noexpp::cluster {
namespace {

/// Inputs longer than this are cut in error messages (ids come from config
/// files and the network: a message must stay readable).
constexpr std::size_t kMaxQuoted = 300;
/// A DNS label is at most 63 characters.
constexpr std::size_t kMaxLabelLength = 63;

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// One byte for a message: printable ASCII as is, anything else as \xNN, so
/// control characters in hostile input cannot garble a log line.
std::string show_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string(1, c);
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", u);
  return buf;
}

/// `s` in single quotes, escaped and shortened for a message.
std::string quoted(std::string_view s) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kMaxQuoted; ++i) out += show_char(s[i]);
  if (s.size() > kMaxQuoted) out += "...";
  return out + "'";
}

/// Why `port` is not a canonical decimal port, or "" when it is one. Leading
/// zeros are refused so that an id has a single spelling.
std::string port_problem(std::string_view port) {
  if (port.empty()) return "port is empty";
  for (std::size_t i = 0; i < port.size(); ++i) {
    if (!is_digit(port[i])) {
      return "port " + quoted(port) + " has invalid character '" + show_char(port[i]) + "' at offset " +
             std::to_string(i) + " (expected a decimal number)";
    }
  }
  if (port.size() > 1 && port[0] == '0') return "port " + quoted(port) + " has a leading zero";
  if (port.size() > 5) return "port " + quoted(port) + " is out of range 0..65535";
  unsigned value = 0;
  for (char c : port) value = value * 10 + static_cast<unsigned>(c - '0');
  if (value > 65535) return "port " + quoted(port) + " is out of range 0..65535";
  return {};
}

/// Converts a port that passed port_problem.
std::uint16_t to_port(std::string_view port) {
  unsigned value = 0;
  for (char c : port) value = value * 10 + static_cast<unsigned>(c - '0');
  return static_cast<std::uint16_t>(value);
}

/// Why a host made only of digits and dots is not an IPv4 address, or "".
/// Such a host would otherwise reach the resolver, which reads "1.2.3" or
/// "010.0.0.1" (octal!) as some other address than the user meant.
std::string ipv4_problem(std::string_view host) {
  const std::string prefix = "host " + quoted(host) + " is not a valid IPv4 address: ";
  const auto dots = static_cast<std::size_t>(std::count(host.begin(), host.end(), '.'));
  if (dots != 3) return prefix + "expected 4 dot-separated octets, got " + std::to_string(dots + 1);
  std::size_t start = 0;
  for (std::size_t i = 0; i <= dots; ++i) {
    const std::size_t dot = host.find('.', start);
    const std::string_view octet = host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
    if (octet.size() > 1 && octet[0] == '0') return prefix + "octet " + quoted(octet) + " has a leading zero";
    if (octet.size() > 3 || to_port(octet) > 255) return prefix + "octet " + quoted(octet) + " is above 255";
    start = dot + 1;
  }
  return {};
}

/// Why `host` is not an IPv4 address or host name, or "" when it is one.
std::string host_problem(std::string_view host) {
  if (host.empty()) return "host is empty";
  if (host.front() == '[' || host.find(':') != std::string_view::npos) {
    return "host " + quoted(host) + " looks like an IPv6 address, which is not supported (use IPv4 or a host name)";
  }
  if (host.size() > kMaxHostLength) {
    return "host is " + std::to_string(host.size()) + " characters long; at most " + std::to_string(kMaxHostLength) +
           " allowed";
  }
  for (std::size_t i = 0; i < host.size(); ++i) {
    if (!is_name_char(host[i])) {
      return "host " + quoted(host) + " has invalid character '" + show_char(host[i]) + "' at offset " +
             std::to_string(i) + " (allowed: A-Z a-z 0-9 _ . -)";
    }
  }
  bool all_numeric = true;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
    if (label.empty()) return "host " + quoted(host) + " has an empty label (a leading, trailing or doubled '.')";
    if (label.size() > kMaxLabelLength) {
      return "host " + quoted(host) + " has a label longer than " + std::to_string(kMaxLabelLength) + " characters";
    }
    if (label.front() == '-' || label.back() == '-') {
      return "host " + quoted(host) + " has label " + quoted(label) + " starting or ending with '-'";
    }
    for (char c : label) all_numeric = all_numeric && is_digit(c);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return all_numeric ? ipv4_problem(host) : std::string{};
}

Error invalid(std::string detail) { return Error{Errc::invalid_argument, std::move(detail)}; }

}  // namespace

std::string NodeId::to_string() const { return name + "@" + host + ":" + std::to_string(port); }

std::string HostPort::to_string() const { return host + ":" + std::to_string(port); }

std::string node_name_problem(std::string_view name) {
  if (name.empty()) return "name is empty";
  if (name.size() > kMaxNodeNameLength) {
    return "name is " + std::to_string(name.size()) + " characters long; at most " +
           std::to_string(kMaxNodeNameLength) + " allowed";
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!is_name_char(name[i])) {
      return "name has invalid character '" + show_char(name[i]) + "' at offset " + std::to_string(i) +
             " (allowed: A-Z a-z 0-9 _ . -)";
    }
  }
  return {};
}

bool is_valid_node_name(std::string_view name) { return node_name_problem(name).empty(); }

Result<NodeId> parse_node_id(std::string_view id) {
  constexpr std::string_view expected = ": expected name@host:port";
  const std::string what = "node id " + quoted(id);
  if (id.empty()) return invalid("node id is empty" + std::string(expected));
  const std::size_t at = id.find('@');
  if (at == std::string_view::npos) return invalid(what + " has no '@'" + std::string(expected));
  const std::string_view name = id.substr(0, at);
  const std::string_view rest = id.substr(at + 1);
  if (auto p = node_name_problem(name); !p.empty()) return invalid(what + ": " + p + std::string(expected));
  if (rest.find('@') != std::string_view::npos) return invalid(what + " has more than one '@'" + std::string(expected));
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return invalid(what + " has no ':port'" + std::string(expected));
  const std::string_view host = rest.substr(0, colon);
  const std::string_view port = rest.substr(colon + 1);
  if (auto p = host_problem(host); !p.empty()) return invalid(what + ": " + p);
  if (auto p = port_problem(port); !p.empty()) return invalid(what + ": " + p);
  const std::uint16_t port_number = to_port(port);
  if (port_number == 0) return invalid(what + " has port 0: a node id needs a fixed port 1..65535");
  return NodeId{std::string(name), std::string(host), port_number};
}

Result<HostPort> parse_host_port(std::string_view s) {
  const std::string what = "address " + quoted(s);
  if (s.empty()) return invalid("address is empty: expected host:port");
  const std::size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return invalid(what + " has no ':port': expected host:port");
  const std::string_view host = s.substr(0, colon);
  const std::string_view port = s.substr(colon + 1);
  if (auto p = host_problem(host); !p.empty()) return invalid(what + ": " + p);
  if (auto p = port_problem(port); !p.empty()) return invalid(what + ": " + p);
  return HostPort{std::string(host), to_port(port)};
}

}  // namespace noexpp::cluster
