// LinkSet: the same answers below and above the size where it starts indexing.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/link_set.hpp"

namespace noexpp {
namespace {

Pid pid(std::uint64_t serial) { return Pid{1, 7, serial}; }

std::vector<std::uint64_t> serials(std::vector<Pid> v) {
  std::vector<std::uint64_t> out;
  for (auto& p : v) out.push_back(p.serial);
  std::sort(out.begin(), out.end());
  return out;
}

class LinkSetSizes : public ::testing::TestWithParam<int> {};

TEST_P(LinkSetSizes, insert_is_idempotent_and_erase_removes_exactly_one) {
  const int n = GetParam();
  LinkSet s;
  for (int i = 1; i <= n; ++i) s.insert(pid(i));
  for (int i = 1; i <= n; ++i) s.insert(pid(i));  // duplicates are ignored
  EXPECT_EQ(s.size(), static_cast<std::size_t>(n));
  for (int i = 1; i <= n; i += 2) s.erase(pid(i));  // every odd one
  s.erase(pid(100000));                              // absent: no effect
  std::vector<std::uint64_t> expected;
  for (int i = 2; i <= n; i += 2) expected.push_back(i);
  EXPECT_EQ(serials(s.take()), expected);
  EXPECT_EQ(s.size(), 0u);
  s.insert(pid(5));  // usable after take
  EXPECT_EQ(serials(s.take()), std::vector<std::uint64_t>{5});
}

INSTANTIATE_TEST_SUITE_P(BelowAndAboveTheIndex, LinkSetSizes, ::testing::Values(1, 3, 31, 32, 33, 1000));

}  // namespace
}  // namespace noexpp
