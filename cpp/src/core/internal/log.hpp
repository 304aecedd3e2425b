#pragma once
// The engine's logger (private to the engine library).
#include <memory>

#include <spdlog/logger.h>

namespace noexpp {
/// The "noexpp" logger, writing to stderr. Thread: any.
spdlog::logger& log();
}  // namespace noexpp
