#pragma once
// The process-wide table of node ids, bounded where the network feeds it:
// ids are interned forever (a Pid keeps a 4-byte index), so ids that arrive
// in frames are taken only while the table has room.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace noexpp {

/// Distinct node ids an OS process interns from the network at most.
inline constexpr std::size_t kMaxNodeNames = 65536;
/// The longest node id in a pid: "name@host:port" with a 255-character
/// name, a 253-character host and a 5-digit port.
inline constexpr std::size_t kMaxNodeIdLength = 255 + 1 + 253 + 1 + 5;

/// intern_node_name, or nullopt when `id` is new and kMaxNodeNames ids are
/// interned already. Thread: any.
std::optional<std::uint32_t> intern_node_name_bounded(std::string_view id);

}  // namespace noexpp
