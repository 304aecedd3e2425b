// The shared library's own translation unit: what it says of itself.
#include "noexpp/version.hpp"

namespace noexpp {

const char* engine_version() { return NOEXPP_ENGINE_VERSION; }

}  // namespace noexpp
