#pragma once
/// The cluster cookie, after Erlang's ~/.erlang.cookie: a shared secret that
/// nodes prove they know during the handshake (see handshake_crypto.hpp).
/// Nodes of one user on one host share it through a file that the first node
/// creates, so a local cluster works with no configuration and is still
/// closed to other users.
///
/// Error details name the file but never contain the cookie itself: they
/// end up in logs.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "noexpp/error.hpp"

namespace noexpp::cluster {

/// Longest cookie accepted, in bytes.
inline constexpr std::size_t kMaxCookieLength = 1024;
/// Length of a generated cookie: 32 letters of [A-Z] are ~150 random bits.
inline constexpr std::size_t kGeneratedCookieLength = 32;

/// $NOEXPP_COOKIE_FILE if set and non-empty, else $HOME/.noexpp.cookie
/// (the home directory from the password database if $HOME is unset). Empty
/// when no home directory can be found; read_or_create_cookie then says so.
std::filesystem::path default_cookie_path();

/// Reads the cookie at `path`, trailing whitespace (spaces, tabs, CR, LF)
/// stripped.
///
/// A missing file is created with a fresh random cookie (kGeneratedCookieLength
/// characters of [A-Z] from OpenSSL's RAND_bytes), mode 0600. Creation is
/// atomic: the cookie is written to a temporary file (O_CREAT|O_EXCL, 0600)
/// in the same directory, which is then hard-linked to `path`; the link fails
/// if `path` exists. So the file never exists without its content, and when
/// two processes start at once, the loser of the race reads the winner's
/// cookie and both agree.
///
/// Errors (Errc::invalid_argument, naming the path): the file is readable or
/// writable by group or others ("... has mode 0644; it must be accessible by
/// its owner only (chmod 600 ...)"), is not a regular file, is empty, cannot
/// be read, holds a cookie that validate_cookie rejects, or cannot be created
/// (for instance its directory does not exist). The owner of the file is not
/// checked, so a cookie mounted into a container as a secret works.
Result<std::string> read_or_create_cookie(const std::filesystem::path& path);

/// Checks a cookie given directly (flag, environment): non-empty, at most
/// kMaxCookieLength bytes, printable ASCII (0x20..0x7e) only. Returns it
/// unchanged.
Result<std::string> validate_cookie(std::string_view cookie);

}  // namespace noexpp::cluster
