#pragma once
/// Process identifiers and the process-wide table of node names.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace noexpp {

/// Interns a node id ("name@host:port") and returns its small index; the same
/// id always maps to the same index for the life of the OS process.
/// Index 0 is reserved for "no node". Thread: any.
std::uint32_t intern_node_name(std::string_view id);
/// The id behind an index from intern_node_name. Thread: any.
const std::string& node_name(std::uint32_t index);

/// A process identifier: (node, creation, serial).
/// `creation` tells incarnations of a node with the same name apart, and
/// serials never repeat within one incarnation, so a stale pid can never
/// reach a newer process. Serial 0 names the node itself (used as the
/// "caller" of calls made from outside any process).
struct Pid {
  std::uint32_t node = 0;
  std::uint32_t creation = 0;
  std::uint64_t serial = 0;

  bool is_nil() const { return node == 0; }
  bool is_node_itself() const { return node != 0 && serial == 0; }
  bool same_node(const Pid& o) const { return node == o.node && creation == o.creation; }
  friend bool operator==(const Pid&, const Pid&) = default;
  friend auto operator<=>(const Pid&, const Pid&) = default;
  /// "<alpha@127.0.0.1:4370.12>"
  std::string to_string() const;
};

struct PidHash {
  std::size_t operator()(const Pid& p) const noexcept {
    return std::hash<std::uint64_t>{}(p.serial * 0x9E3779B97F4A7C15ULL ^
                                      (std::uint64_t(p.node) << 32 | p.creation));
  }
};

}  // namespace noexpp

template <>
struct std::hash<noexpp::Pid> : noexpp::PidHash {};
