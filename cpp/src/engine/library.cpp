// The shared library noexpp_engine is the layers, linked whole (see
// cpp/CMakeLists.txt); a target needs one source of its own, and this is it.
// engine_version() lives in the core (src/core/version.cpp), so that code
// linking the layers without the shared library (tests, fuzz targets) has it.
