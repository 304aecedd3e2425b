#include "cluster/cookie.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <system_error>
#include <vector>

namespace noexpp::cluster {
namespace {

namespace fs = std::filesystem;

/// A cookie file bigger than this is not a cookie (room for the longest
/// cookie plus generous trailing whitespace); reading stops there.
constexpr std::size_t kMaxCookieFileBytes = 2 * kMaxCookieLength;
/// The whitespace stripped from the end of a cookie file.
constexpr std::string_view kTrailingWhitespace = " \t\r\n\v\f";

Error invalid(std::string detail) { return Error{Errc::invalid_argument, std::move(detail)}; }

std::string errno_text(int e) { return std::generic_category().message(e); }

/// "cookie file '<path>'", the subject of every message about a file.
std::string subject(const fs::path& path) { return "cookie file '" + path.string() + "'"; }

/// Closes a descriptor on every path out of a function.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  /// Closes now, reporting the error close() may carry (a deferred write
  /// error on some filesystems); 0 or an errno.
  int close_now() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

/// Removes a temporary file unless it was handed over.
class UnlinkGuard {
 public:
  explicit UnlinkGuard(fs::path path) : path_(std::move(path)) {}
  UnlinkGuard(const UnlinkGuard&) = delete;
  UnlinkGuard& operator=(const UnlinkGuard&) = delete;
  ~UnlinkGuard() { ::unlink(path_.c_str()); }

 private:
  fs::path path_;
};

/// `n` random bytes from OpenSSL's CSPRNG.
Result<std::vector<unsigned char>> random_bytes(std::size_t n) {
  std::vector<unsigned char> bytes(n);
  if (RAND_bytes(bytes.data(), static_cast<int>(n)) != 1) {
    return invalid("cannot generate a cookie: OpenSSL's random generator failed");
  }
  return bytes;
}

/// A fresh cookie of kGeneratedCookieLength uniform letters [A-Z].
Result<std::string> generate_cookie() {
  std::string cookie;
  while (cookie.size() < kGeneratedCookieLength) {
    auto bytes = random_bytes(kGeneratedCookieLength);
    if (!bytes) return bytes.error();
    for (unsigned char b : bytes.value()) {
      // 234 = 9 * 26: rejecting the bytes above it keeps every letter equally likely.
      if (b < 234 && cookie.size() < kGeneratedCookieLength) cookie += static_cast<char>('A' + b % 26);
    }
  }
  return cookie;
}

/// A random suffix for a temporary file name (hex).
Result<std::string> random_suffix() {
  auto bytes = random_bytes(8);
  if (!bytes) return bytes.error();
  std::string out;
  for (unsigned char b : bytes.value()) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

/// The cookie in the file `path`; nullopt when the file does not exist.
Result<std::optional<std::string>> read_existing(const fs::path& path) {
  // O_NONBLOCK: a FIFO planted at the path must fail below, not hang the node.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) return std::optional<std::string>{};
    return invalid("cannot read " + subject(path) + ": " + errno_text(e));
  }
  FdCloser closer(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return invalid("cannot stat " + subject(path) + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) return invalid(subject(path) + " is not a regular file");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return invalid(subject(path) + " has mode " + mode + "; it must be accessible by its owner only (chmod 600 '" +
                   path.string() + "')");
  }
  std::string content;
  char buf[512];
  while (content.size() <= kMaxCookieFileBytes) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return invalid("cannot read " + subject(path) + ": " + errno_text(errno));
    if (n == 0) break;
    content.append(buf, static_cast<std::size_t>(n));
  }
  if (content.size() > kMaxCookieFileBytes) {
    return invalid(subject(path) + " is larger than " + std::to_string(kMaxCookieFileBytes) + " bytes: not a cookie");
  }
  content.erase(content.find_last_not_of(kTrailingWhitespace) + 1);  // npos + 1 == 0: all whitespace
  if (content.empty()) return invalid(subject(path) + " is empty");
  if (auto valid = validate_cookie(content); !valid) return invalid(subject(path) + ": " + valid.error().detail);
  return std::optional<std::string>(std::move(content));
}

/// Writes all of `data` to `fd`; 0 or an errno.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

/// Creates `path` holding a fresh cookie and returns it; nullopt when another
/// process created the file first (the caller then reads that one).
Result<std::optional<std::string>> create_new(const fs::path& path) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  auto cookie = generate_cookie();
  if (!cookie) return cookie.error();

  // The temporary name is unique per attempt, so O_EXCL only fails on a
  // (vanishingly unlikely) collision, which is retried.
  fs::path tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 4 && fd < 0; ++attempt) {
    auto suffix = random_suffix();
    if (!suffix) return suffix.error();
    tmp = dir / ("." + path.filename().string() + ".tmp-" + suffix.value());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, S_IRUSR | S_IWUSR);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) return invalid("cannot create " + subject(path) + ": directory '" + dir.string() + "' does not exist");
    return invalid("cannot create " + subject(path) + " in '" + dir.string() + "': " + errno_text(e));
  }
  UnlinkGuard remove_tmp(tmp);
  FdCloser closer(fd);
  // open()'s mode is filtered by the umask; the file must be exactly 0600.
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
    return invalid("cannot create " + subject(path) + ": chmod: " + errno_text(errno));
  }
  if (int e = write_all(fd, cookie.value() + "\n"); e != 0) {
    return invalid("cannot create " + subject(path) + ": write: " + errno_text(e));
  }
  // Durable before it becomes visible: a crash must not leave an empty cookie file behind.
  if (::fsync(fd) != 0) return invalid("cannot create " + subject(path) + ": fsync: " + errno_text(errno));
  if (int e = closer.close_now(); e != 0) return invalid("cannot create " + subject(path) + ": close: " + errno_text(e));
  // link() is the atomic "create if absent, with this content".
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    if (e == EEXIST) return std::optional<std::string>{};
    return invalid("cannot create " + subject(path) + ": link from '" + tmp.string() + "': " + errno_text(e) +
                   " (the directory's filesystem must support hard links)");
  }
  return std::optional<std::string>(std::move(cookie.value()));
}

/// The home directory: $HOME, else the password database; empty if neither.
fs::path home_directory() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(::geteuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr && found->pw_dir != nullptr &&
      *found->pw_dir != '\0') {
    return found->pw_dir;
  }
  return {};
}

}  // namespace

fs::path default_cookie_path() {
  if (const char* file = std::getenv("NOEXPP_COOKIE_FILE"); file != nullptr && *file != '\0') return file;
  fs::path home = home_directory();
  if (home.empty()) return {};
  return home / ".noexpp.cookie";
}

Result<std::string> read_or_create_cookie(const fs::path& path) {
  if (path.empty()) return invalid("no cookie file path: set $NOEXPP_COOKIE_FILE or $HOME");
  // Two rounds: read; if absent, create; if someone else created it in
  // between, read theirs.
  for (int round = 0; round < 2; ++round) {
    auto existing = read_existing(path);
    if (!existing) return existing.error();
    if (existing.value()) return std::move(*existing.value());
    auto created = create_new(path);
    if (!created) return created.error();
    if (created.value()) return std::move(*created.value());
  }
  return invalid(subject(path) + " exists but cannot be opened (a dangling symbolic link?)");
}

Result<std::string> validate_cookie(std::string_view cookie) {
  if (cookie.empty()) return invalid("cookie is empty");
  if (cookie.size() > kMaxCookieLength) {
    return invalid("cookie is " + std::to_string(cookie.size()) + " bytes long; at most " +
                   std::to_string(kMaxCookieLength) + " allowed");
  }
  for (std::size_t i = 0; i < cookie.size(); ++i) {
    const auto c = static_cast<unsigned char>(cookie[i]);
    if (c < 0x20 || c > 0x7e) {
      // The byte is shown, not the cookie: the cookie is a secret.
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02x", c);
      return invalid("cookie has non-printable byte " + std::string(byte) + " at offset " + std::to_string(i) +
                     ": only printable ASCII is allowed");
    }
  }
  return std::string(cookie);
}

}  // namespace noexpp::cluster
