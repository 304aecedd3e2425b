#include "noexpp/pid.hpp"

#include "core/internal/node_names.hpp"

#include <deque>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace noexpp {
namespace {

// Names are never removed: a process meets few distinct node ids, and stable
// indices let a Pid stay 16 bytes with cheap comparison. What the network
// adds is bounded (intern_node_name_bounded).
struct NodeNames {
  std::shared_mutex mu;
  std::deque<std::string> names{std::string()};  // deque: references stay valid
  std::unordered_map<std::string, std::uint32_t> index;
};

NodeNames& table() {
  static NodeNames t;
  return t;
}

std::optional<std::uint32_t> intern(std::string_view id, std::size_t limit) {
  auto& t = table();
  std::string key(id);
  {
    std::shared_lock lk(t.mu);
    if (auto it = t.index.find(key); it != t.index.end()) return it->second;
  }
  std::unique_lock lk(t.mu);
  if (auto it = t.index.find(key); it != t.index.end()) return it->second;
  if (t.index.size() >= limit) return std::nullopt;
  auto i = static_cast<std::uint32_t>(t.names.size());
  t.names.push_back(key);
  t.index.emplace(std::move(key), i);
  return i;
}

}  // namespace

std::uint32_t intern_node_name(std::string_view id) {
  return *intern(id, std::numeric_limits<std::size_t>::max());
}

std::optional<std::uint32_t> intern_node_name_bounded(std::string_view id) { return intern(id, kMaxNodeNames); }

const std::string& node_name(std::uint32_t index) {
  auto& t = table();
  std::shared_lock lk(t.mu);
  return index < t.names.size() ? t.names[index] : t.names[0];
}

std::string Pid::to_string() const {
  if (is_nil()) return "<nil>";
  return "<" + node_name(node) + "." + std::to_string(serial) + ">";
}

}  // namespace noexpp
