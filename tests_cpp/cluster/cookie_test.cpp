// The cookie file: created once with a random cookie and mode 0600, agreed
// on by processes racing to create it, and refused with a message naming the
// path when it is exposed to other users, empty, unreadable or not a cookie.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cookie.hpp"

namespace noexpp::test {
namespace {

namespace fs = std::filesystem;
using cluster::read_or_create_cookie;
using cluster::validate_cookie;

/// A fresh directory under the system temp dir, removed with its contents.
class CookieFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("noexpp-cookie-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    ASSERT_TRUE(fs::create_directory(dir_)) << dir_;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path dir_;
};

/// Writes `content` to `path` with exactly `mode` (whatever the umask).
void write_file(const fs::path& path, const std::string& content, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    ASSERT_TRUE(out.good()) << path;
  }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Asserts that reading the cookie at `path` fails with invalid_argument and
/// a detail naming the path and containing `expected`.
void expect_refused(const fs::path& path, const std::string& expected) {
  auto r = read_or_create_cookie(path);
  ASSERT_FALSE(r.ok()) << path << " gave a cookie";
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_NE(r.error().detail.find(path.string()), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find(expected), std::string::npos)
      << "detail '" << r.error().detail << "' does not contain '" << expected << "'";
}

bool is_generated_cookie(const std::string& c) {
  if (c.size() != cluster::kGeneratedCookieLength) return false;
  for (char ch : c) {
    if (ch < 'A' || ch > 'Z') return false;
  }
  return true;
}

/// Restores an environment variable when the test ends.
class EnvRestorer {
 public:
  explicit EnvRestorer(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
  }
  ~EnvRestorer() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_F(CookieFileTest, MissingFileIsCreatedWithARandomCookieAndMode0600) {
  const auto path = dir_ / "cookie";
  auto r = read_or_create_cookie(path);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(is_generated_cookie(r.value())) << r.value();
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(read_file(path), r.value() + "\n");
}

TEST_F(CookieFileTest, ExistingCookieIsReadBackUnchanged) {
  const auto path = dir_ / "cookie";
  auto first = read_or_create_cookie(path);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  auto second = read_or_create_cookie(path);
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(first.value(), second.value());
}

TEST_F(CookieFileTest, CreatedCookiesDiffer) {
  auto a = read_or_create_cookie(dir_ / "a");
  auto b = read_or_create_cookie(dir_ / "b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a.value(), b.value());
}

TEST_F(CookieFileTest, CreatedFileIsOwnerOnlyWhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    const auto path = dir_ / ("cookie-umask-" + std::to_string(mask));
    const mode_t old = ::umask(mask);
    auto r = read_or_create_cookie(path);
    ::umask(old);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(mode_of(path), 0600u) << "umask " << mask;
  }
}

TEST_F(CookieFileTest, NoTemporaryFileIsLeftBehind) {
  ASSERT_TRUE(read_or_create_cookie(dir_ / "cookie").ok());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"cookie"});
}

TEST_F(CookieFileTest, ConcurrentCreatorsAgreeOnOneCookie) {
  // The race of two nodes started at once: every caller gets the winner's cookie.
  constexpr int kThreads = 8;
  for (int round = 0; round < 20; ++round) {
    const auto path = dir_ / ("cookie-" + std::to_string(round));
    std::atomic<bool> go{false};
    std::vector<std::string> cookies(kThreads);
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        while (!go.load()) std::this_thread::yield();
        auto r = read_or_create_cookie(path);
        if (r.ok()) {
          cookies[i] = r.value();
        } else {
          errors[i] = r.error().to_string();
        }
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    for (int i = 0; i < kThreads; ++i) ASSERT_EQ(errors[i], "") << "round " << round << " thread " << i;
    EXPECT_EQ(std::set<std::string>(cookies.begin(), cookies.end()).size(), 1u) << "round " << round;
    EXPECT_EQ(read_file(path), cookies[0] + "\n");
  }
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 20u) << "temporary files left behind";
}

TEST_F(CookieFileTest, TrailingWhitespaceIsStripped) {
  const auto path = dir_ / "cookie";
  write_file(path, "my secret cookie \t\r\n\n", 0600);
  auto r = read_or_create_cookie(path);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value(), "my secret cookie");
}

TEST_F(CookieFileTest, ReadOnlyByOwnerIsAccepted) {
  const auto path = dir_ / "cookie";
  write_file(path, "SECRET\n", 0400);
  auto r = read_or_create_cookie(path);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value(), "SECRET");
}

TEST_F(CookieFileTest, FileAccessibleByOthersIsRefusedNamingModeAndPath) {
  const auto path = dir_ / "cookie";
  write_file(path, "SECRET\n", 0644);
  expect_refused(path, "has mode 0644; it must be accessible by its owner only (chmod 600 '" + path.string() + "')");
  for (mode_t mode : {mode_t{0640}, mode_t{0604}, mode_t{0620}, mode_t{0602}, mode_t{0610}}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
    expect_refused(path, std::string("has mode ") + text);
  }
}

TEST_F(CookieFileTest, RefusalNeverShowsTheCookie) {
  const auto path = dir_ / "cookie";
  write_file(path, "TOPSECRETVALUE\x01\n", 0600);
  auto r = read_or_create_cookie(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail.find("TOPSECRET"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("non-printable byte 0x01 at offset 14"), std::string::npos) << r.error().detail;
}

TEST_F(CookieFileTest, EmptyFileIsRefused) {
  const auto path = dir_ / "cookie";
  write_file(path, "", 0600);
  expect_refused(path, "is empty");
  write_file(path, " \n\n\t", 0600);
  expect_refused(path, "is empty");
}

TEST_F(CookieFileTest, CookieSpanningLinesIsRefused) {
  const auto path = dir_ / "cookie";
  write_file(path, "AB\nCD\n", 0600);
  expect_refused(path, "non-printable byte 0x0a at offset 2");
}

TEST_F(CookieFileTest, OversizedFileIsRefused) {
  const auto path = dir_ / "cookie";
  write_file(path, std::string(5000, 'A'), 0600);
  expect_refused(path, "is larger than 2048 bytes");
  write_file(path, std::string(1025, 'A'), 0600);
  expect_refused(path, "cookie is 1025 bytes long; at most 1024 allowed");
}

TEST_F(CookieFileTest, UnreadableFileIsRefused) {
  const auto path = dir_ / "cookie";
  write_file(path, "SECRET\n", 0200);
  if (::geteuid() != 0) {
    expect_refused(path, "cannot read " + std::string("cookie file '") + path.string() + "': Permission denied");
    return;
  }
  // Root reads files whatever their mode: check as an unprivileged user, in
  // a child process (setuid cannot be undone).
  constexpr uid_t kNobody = 65534;
  ASSERT_EQ(::chown(path.c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  EXPECT_EXIT(
      {
        if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) std::_Exit(2);
        auto r = read_or_create_cookie(path);
        const bool named = !r.ok() && r.error().detail == "cannot read cookie file '" + path.string() +
                                                              "': Permission denied";
        std::_Exit(named ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(CookieFileTest, PathThroughARegularFileIsRefused) {
  write_file(dir_ / "file", "x", 0600);
  const auto path = dir_ / "file" / "cookie";
  expect_refused(path, "cannot read cookie file '" + path.string() + "': Not a directory");
}

TEST_F(CookieFileTest, MissingDirectoryIsNamed) {
  const auto path = dir_ / "no-such-dir" / "cookie";
  expect_refused(path, "directory '" + (dir_ / "no-such-dir").string() + "' does not exist");
}

TEST_F(CookieFileTest, DirectoryAtThePathIsRefused) {
  const auto path = dir_ / "cookie";
  fs::create_directory(path);
  expect_refused(path, "is not a regular file");
}

TEST_F(CookieFileTest, FifoAtThePathIsRefusedWithoutBlocking) {
  const auto path = dir_ / "cookie";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  expect_refused(path, "is not a regular file");
}

TEST_F(CookieFileTest, SymlinkToACookieIsFollowed) {
  const auto target = dir_ / "real-cookie";
  write_file(target, "SECRET\n", 0600);
  fs::create_symlink(target, dir_ / "cookie");
  auto r = read_or_create_cookie(dir_ / "cookie");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value(), "SECRET");
}

TEST_F(CookieFileTest, DanglingSymlinkIsRefused) {
  fs::create_symlink(dir_ / "nowhere", dir_ / "cookie");
  expect_refused(dir_ / "cookie", "dangling symbolic link");
}

TEST(CookiePath, EmptyPathIsRefused) {
  auto r = read_or_create_cookie({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail, "no cookie file path: set $NOEXPP_COOKIE_FILE or $HOME");
}

TEST(CookiePath, EnvironmentVariableWinsOverHome) {
  EnvRestorer keep_file("NOEXPP_COOKIE_FILE");
  EnvRestorer keep_home("HOME");
  ::setenv("HOME", "/home/someone", 1);
  ::setenv("NOEXPP_COOKIE_FILE", "/etc/noexpp/cookie", 1);
  EXPECT_EQ(cluster::default_cookie_path(), fs::path("/etc/noexpp/cookie"));
  ::setenv("NOEXPP_COOKIE_FILE", "", 1);
  EXPECT_EQ(cluster::default_cookie_path(), fs::path("/home/someone/.noexpp.cookie"));
  ::unsetenv("NOEXPP_COOKIE_FILE");
  EXPECT_EQ(cluster::default_cookie_path(), fs::path("/home/someone/.noexpp.cookie"));
}

TEST(CookiePath, WithoutHomeThePasswordDatabaseIsUsed) {
  EnvRestorer keep_file("NOEXPP_COOKIE_FILE");
  EnvRestorer keep_home("HOME");
  ::unsetenv("NOEXPP_COOKIE_FILE");
  ::unsetenv("HOME");
  const auto path = cluster::default_cookie_path();
  if (path.empty()) GTEST_SKIP() << "this user has no home directory in the password database";
  EXPECT_EQ(path.filename(), ".noexpp.cookie");
  EXPECT_TRUE(path.is_absolute()) << path;
}

TEST(ValidateCookie, PrintableCookieIsReturnedUnchanged) {
  auto r = validate_cookie(" any printable ~ASCII! ");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value(), " any printable ~ASCII! ");
  EXPECT_TRUE(validate_cookie(std::string(1024, 'x')).ok());
}

TEST(ValidateCookie, EmptyCookieIsRefused) {
  auto r = validate_cookie("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(r.error().detail, "cookie is empty");
}

TEST(ValidateCookie, CookieOver1024BytesIsRefused) {
  auto r = validate_cookie(std::string(1025, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail, "cookie is 1025 bytes long; at most 1024 allowed");
}

TEST(ValidateCookie, NonPrintableBytesAreRefusedByOffset) {
  struct Case {
    std::string cookie;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"ab\tc", "non-printable byte 0x09 at offset 2"},
      {"abc\x7f", "non-printable byte 0x7f at offset 3"},
      {"\xc3\xa9t\xc3\xa9", "non-printable byte 0xc3 at offset 0"},
      {std::string("a\0b", 3), "non-printable byte 0x00 at offset 1"},
  };
  for (const auto& c : cases) {
    auto r = validate_cookie(c.cookie);
    ASSERT_FALSE(r.ok()) << c.expected;
    EXPECT_EQ(r.error().detail, "cookie has " + c.expected + ": only printable ASCII is allowed");
  }
}

}  // namespace
}  // namespace noexpp::test
