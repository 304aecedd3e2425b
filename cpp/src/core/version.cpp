// What the engine says of its own version (noexpp/version.hpp).
#include "noexpp/version.hpp"

namespace noexpp {

const char* engine_version() { return NOEXPP_ENGINE_VERSION; }

}  // namespace noexpp
