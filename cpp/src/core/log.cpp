#include "core/internal/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "noexpp/node.hpp"

namespace noexpp {

spdlog::logger& log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("noexpp", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%Y-%m-%d %H:%M:%S.%e [%n] %l: %v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return *logger;
}

bool set_log_level(const std::string& level) {
  auto l = spdlog::level::from_str(level == "warning" ? "warn" : level);
  // from_str maps unknown names to "off"; only accept "off" when asked for.
  if (l == spdlog::level::off && level != "off") return false;
  log().set_level(l);
  return true;
}

}  // namespace noexpp
