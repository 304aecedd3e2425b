# Finds the system libraries the engine needs. Each failure names the Debian
# package that provides the missing piece, so a fresh machine knows what to do.
find_package(Threads REQUIRED)

find_path(ASIO_INCLUDE_DIR asio.hpp)
if(NOT ASIO_INCLUDE_DIR)
  message(FATAL_ERROR "Standalone Asio not found: apt-get install libasio-dev")
endif()
add_library(noexpp_asio INTERFACE)
target_include_directories(noexpp_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
# Asio picks aligned allocation only when a libstdc++ header came before
# <asio.hpp>; files including it in different orders would then free with
# another allocator than they allocated with (ASan: alloc-dealloc-mismatch).
# One setting for every file.
target_compile_definitions(noexpp_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED ASIO_DISABLE_STD_ALIGNED_ALLOC)

# msgpack-cxx is header-only; its Debian CMake config insists on Boost, which we
# do not use (MSGPACK_NO_BOOST), so the header is found directly.
find_path(MSGPACK_INCLUDE_DIR msgpack.hpp)
if(NOT MSGPACK_INCLUDE_DIR)
  message(FATAL_ERROR "msgpack-cxx not found: apt-get install libmsgpack-cxx-dev")
endif()
add_library(noexpp_msgpack INTERFACE)
target_include_directories(noexpp_msgpack SYSTEM INTERFACE ${MSGPACK_INCLUDE_DIR})
target_compile_definitions(noexpp_msgpack INTERFACE MSGPACK_NO_BOOST MSGPACK_DEFAULT_API_VERSION=3)

# The cluster handshake's HMAC-SHA256 and nonces (Crypto), and TLS (SSL).
find_package(OpenSSL QUIET COMPONENTS Crypto SSL)
if(NOT OpenSSL_FOUND)
  message(FATAL_ERROR "OpenSSL not found: apt-get install libssl-dev")
endif()

find_package(spdlog CONFIG QUIET)
if(NOT spdlog_FOUND)
  message(FATAL_ERROR "spdlog not found: apt-get install libspdlog-dev")
endif()

if(NOEXPP_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  if(NOT GTest_FOUND)
    message(FATAL_ERROR "GoogleTest not found: apt-get install libgtest-dev")
  endif()
endif()
