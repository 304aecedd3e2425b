#pragma once
/// The engine's version, as the headers a program was built with say it and
/// as the shared library it runs with says it.

namespace noexpp {

/// The version of these headers ("0.1.0").
inline constexpr const char* kHeaderVersion = "0.1.0";

/// The version of the engine library in use. Thread: any.
const char* engine_version();

}  // namespace noexpp
