#pragma once
/// The engine's version, as the headers a program was built with say it and
/// as the shared library it runs with says it.

#include <cstddef>
#include <string_view>

namespace noexpp {

/// The version of these headers ("0.1.0").
inline constexpr const char* kHeaderVersion = "0.1.0";

/// The version of the engine library in use. Thread: any.
const char* engine_version();

/// Whether code built with these headers may use the engine library loaded
/// now: the same major and minor version (while the major is 0, a minor
/// version may change the ABI). register_behavior checks it, so a native
/// module built against another noexpp is refused when it loads.
inline bool engine_matches_headers() {
  auto major_minor = [](const char* v) {
    int dots = 0;
    const char* p = v;
    while (*p && !(*p == '.' && ++dots == 2)) ++p;
    return std::string_view(v, static_cast<std::size_t>(p - v));
  };
  return major_minor(engine_version()) == major_minor(kHeaderVersion);
}

}  // namespace noexpp
