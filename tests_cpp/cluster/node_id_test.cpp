// Node ids and listen addresses: what parses, what does not, and that every
// rejection says exactly what was wrong.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <noexpp/cluster/node_id.hpp>

namespace noexpp::test {
namespace {

using cluster::HostPort;
using cluster::NodeId;
using cluster::parse_host_port;
using cluster::parse_node_id;

/// Asserts that parsing `id` fails with invalid_argument and a detail
/// containing `expected`.
void expect_bad_id(const std::string& id, const std::string& expected) {
  auto r = parse_node_id(id);
  ASSERT_FALSE(r.ok()) << "'" << id << "' parsed as " << r.value().to_string();
  EXPECT_EQ(r.error().code, Errc::invalid_argument) << id;
  EXPECT_NE(r.error().detail.find(expected), std::string::npos)
      << "'" << id << "': detail '" << r.error().detail << "' does not contain '" << expected << "'";
}

void expect_bad_address(const std::string& s, const std::string& expected) {
  auto r = parse_host_port(s);
  ASSERT_FALSE(r.ok()) << "'" << s << "' parsed as " << r.value().to_string();
  EXPECT_EQ(r.error().code, Errc::invalid_argument) << s;
  EXPECT_NE(r.error().detail.find(expected), std::string::npos)
      << "'" << s << "': detail '" << r.error().detail << "' does not contain '" << expected << "'";
}

TEST(NodeId, ParsesNameHostAndPort) {
  auto r = parse_node_id("alpha@127.0.0.1:4370");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value().name, "alpha");
  EXPECT_EQ(r.value().host, "127.0.0.1");
  EXPECT_EQ(r.value().port, 4370);
}

TEST(NodeId, ToStringRoundTripsEveryValidSpelling) {
  const std::vector<std::string> ids = {
      "alpha@127.0.0.1:4370", "a@localhost:1", "node_1.v2-x@db-3.example.com:65535", "A.B_c-D@HOST:80",
      "n@0.0.0.0:9", "n@my_service:4370", "n@255.255.255.255:1"};
  for (const auto& id : ids) {
    auto r = parse_node_id(id);
    ASSERT_TRUE(r.ok()) << id << ": " << r.error().to_string();
    EXPECT_EQ(r.value().to_string(), id);
  }
}

TEST(NodeId, EqualIdsCompareEqualAndOrder) {
  NodeId a{"a", "h", 1};
  NodeId b{"a", "h", 2};
  EXPECT_EQ(a, parse_node_id("a@h:1").value());
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
}

TEST(NodeId, MissingAtIsNamedWithTheExpectedForm) {
  auto r = parse_node_id("alpha");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail, "node id 'alpha' has no '@': expected name@host:port");
}

TEST(NodeId, EmptyIdIsRejected) { expect_bad_id("", "node id is empty"); }

TEST(NodeId, EmptyNameIsRejected) { expect_bad_id("@h:1", "name is empty"); }

TEST(NodeId, NameWithInvalidCharacterNamesCharacterAndOffset) {
  expect_bad_id("al pha@h:1", "name has invalid character ' ' at offset 2");
  expect_bad_id("al/pha@h:1", "name has invalid character '/' at offset 2");
  expect_bad_id("\xc3\xa9@h:1", "name has invalid character '\\xc3' at offset 0");
}

TEST(NodeId, NameLongerThan255IsRejected) {
  const std::string ok_name(255, 'n');
  EXPECT_TRUE(parse_node_id(ok_name + "@h:1").ok());
  expect_bad_id(std::string(256, 'n') + "@h:1", "name is 256 characters long; at most 255 allowed");
}

TEST(NodeId, SecondAtIsRejected) { expect_bad_id("a@b@h:1", "has more than one '@'"); }

TEST(NodeId, MissingPortIsRejected) {
  expect_bad_id("a@h", "has no ':port'");
  expect_bad_id("a@h:", "port is empty");
}

TEST(NodeId, EmptyHostIsRejected) { expect_bad_id("a@:4370", "host is empty"); }

TEST(NodeId, PortZeroIsNotAnId) { expect_bad_id("a@h:0", "has port 0: a node id needs a fixed port 1..65535"); }

TEST(NodeId, PortOutOfRangeOrNotDecimalIsRejected) {
  expect_bad_id("a@h:65536", "port '65536' is out of range 0..65535");
  expect_bad_id("a@h:99999999999999999999", "is out of range 0..65535");
  expect_bad_id("a@h:-1", "port '-1' has invalid character '-' at offset 0");
  expect_bad_id("a@h:+1", "port '+1' has invalid character '+'");
  expect_bad_id("a@h:12x", "port '12x' has invalid character 'x' at offset 2");
  expect_bad_id("a@h: 1", "has invalid character ' '");
}

TEST(NodeId, PortWithLeadingZeroIsRejectedSoIdsHaveOneSpelling) {
  expect_bad_id("a@h:04370", "port '04370' has a leading zero");
}

TEST(NodeId, HostWithInvalidCharacterIsRejected) {
  expect_bad_id("a@ho st:1", "host 'ho st' has invalid character ' ' at offset 2");
  expect_bad_id("a@h/x:1", "has invalid character '/'");
}

TEST(NodeId, Ipv6HostIsRejectedAsUnsupported) {
  expect_bad_id("a@[::1]:4370", "looks like an IPv6 address, which is not supported");
  expect_bad_id("a@::1:4370", "looks like an IPv6 address");
}

TEST(NodeId, MalformedHostLabelsAreRejected) {
  expect_bad_id("a@.h:1", "has an empty label");
  expect_bad_id("a@h.:1", "has an empty label");
  expect_bad_id("a@h..x:1", "has an empty label");
  expect_bad_id("a@-h:1", "label '-h' starting or ending with '-'");
  expect_bad_id("a@h-.x:1", "starting or ending with '-'");
  expect_bad_id("a@" + std::string(64, 'h') + ":1", "has a label longer than 63 characters");
  std::string long_host;
  for (int i = 0; i < 64; ++i) long_host += "abc.";
  long_host += "x";  // 257 characters
  expect_bad_id("a@" + long_host + ":1", "host is 257 characters long; at most 253 allowed");
}

TEST(NodeId, NumericHostMustBeAValidIpv4Address) {
  expect_bad_id("a@1.2.3:1", "host '1.2.3' is not a valid IPv4 address: expected 4 dot-separated octets, got 3");
  expect_bad_id("a@1.2.3.4.5:1", "got 5");
  expect_bad_id("a@4370:1", "got 1");
  expect_bad_id("a@256.0.0.1:1", "octet '256' is above 255");
  expect_bad_id("a@1.2.3.1000:1", "octet '1000' is above 255");
  expect_bad_id("a@010.0.0.1:1", "octet '010' has a leading zero");
}

TEST(NodeId, ControlCharactersAreEscapedInMessages) {
  auto r = parse_node_id(std::string("a\nb@h:1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail.find('\n'), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("'\\x0a'"), std::string::npos) << r.error().detail;
}

TEST(NodeId, HugeInputIsShortenedInMessages) {
  auto r = parse_node_id(std::string(100000, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.error().detail.size(), 500u);
  EXPECT_NE(r.error().detail.find("...' has no '@'"), std::string::npos) << r.error().detail;
}

TEST(NodeName, ValidNamesAreAccepted) {
  EXPECT_TRUE(cluster::is_valid_node_name("alpha"));
  EXPECT_TRUE(cluster::is_valid_node_name("A-b_c.9"));
  EXPECT_TRUE(cluster::is_valid_node_name(std::string(255, 'z')));
}

TEST(NodeName, InvalidNamesAreRefused) {
  EXPECT_FALSE(cluster::is_valid_node_name(""));
  EXPECT_FALSE(cluster::is_valid_node_name(std::string(256, 'z')));
  EXPECT_FALSE(cluster::is_valid_node_name("a@b"));
  EXPECT_FALSE(cluster::is_valid_node_name("a b"));
  EXPECT_FALSE(cluster::is_valid_node_name("a:b"));
  EXPECT_FALSE(cluster::is_valid_node_name(std::string("a\0b", 3)));
}

TEST(HostPort, ParsesHostAndPort) {
  auto r = parse_host_port("127.0.0.1:4370");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value(), (HostPort{"127.0.0.1", 4370}));
  EXPECT_EQ(r.value().to_string(), "127.0.0.1:4370");
  EXPECT_EQ(parse_host_port("localhost:65535").value(), (HostPort{"localhost", 65535}));
}

TEST(HostPort, PortZeroMeansAnyFreePort) {
  auto r = parse_host_port("0.0.0.0:0");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r.value().port, 0);
}

TEST(HostPort, MalformedAddressesAreRejected) {
  expect_bad_address("", "address is empty: expected host:port");
  expect_bad_address("127.0.0.1", "address '127.0.0.1' has no ':port': expected host:port");
  expect_bad_address(":4370", "host is empty");
  expect_bad_address("h:", "port is empty");
  expect_bad_address("h:65536", "out of range 0..65535");
  expect_bad_address("h:00", "has a leading zero");
  expect_bad_address("a@h:1", "host 'a@h' has invalid character '@' at offset 1");
  expect_bad_address("[::1]:1", "IPv6");
  expect_bad_address("300.1.1.1:1", "octet '300' is above 255");
}

}  // namespace
}  // namespace noexpp::test
