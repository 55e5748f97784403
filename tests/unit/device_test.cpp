// The device of a sign-in (app/auth/device.h): its network and its keyed
// hash. The sign-in decision itself (new or not) is tested through nginx on
// both databases (tests/integration/devices_test.cpp).
#include "app/auth/device.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/crypto/keys.h"
#include "app/crypto/random.h"

namespace portcullis {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

TEST(DeviceTest, NetworkIsTheSlash24OfIpv4AndTheSlash48OfIpv6) {
  EXPECT_EQ(client_network("203.0.113.7"), "203.0.113.0/24");
  EXPECT_EQ(client_network("203.0.113.250"), "203.0.113.0/24");
  EXPECT_EQ(client_network("203.0.114.7"), "203.0.114.0/24");
  EXPECT_EQ(client_network("2001:db8:1:2::7"), "2001:db8:1::/48");
  EXPECT_EQ(client_network("2001:0db8:0001:ffff:ffff:ffff:ffff:ffff"), "2001:db8:1::/48");
  EXPECT_EQ(client_network("2001:db8:2::1"), "2001:db8:2::/48");
  EXPECT_EQ(client_network("::1"), "0:0:0::/48");
  // An IPv4 client seen through an IPv6 socket is the same IPv4 network.
  EXPECT_EQ(client_network("::ffff:203.0.113.7"), "203.0.113.0/24");
}

TEST(DeviceTest, WhatIsNotAnAddressIsUnknown) {
  for (const char* bad :
       {"", "localhost", "203.0.113", "203.0.113.7.1", "256.1.1.1", "203.0.113.7/24",
        " 203.0.113.7", "2001:db8::1%eth0", "::g", "203.0.113.7\n{\"event\":1}"}) {
    EXPECT_EQ(client_network(bad), "unknown") << bad;
  }
  EXPECT_EQ(client_network(std::string(10 * 1024, '1')), "unknown");
  using namespace std::string_literals;
  EXPECT_EQ(client_network("203.0.113.7\0junk"s), "unknown");
}

TEST(DeviceTest, HashIsKeyedPerUserAndHidesItsParts) {
  const std::string key = derive_key(random_bytes(32), "device");
  const std::string h = device_hash(key, "user-1", "Firefox", "Linux", "203.0.113.0/24");
  EXPECT_THAT(h, MatchesRegex("^[0-9a-f]{64}$"));
  EXPECT_THAT(h, Not(HasSubstr("203")));
  EXPECT_EQ(h, device_hash(key, "user-1", "Firefox", "Linux", "203.0.113.0/24"));
  // Each part, the user and the key change it.
  EXPECT_NE(h, device_hash(key, "user-2", "Firefox", "Linux", "203.0.113.0/24"));
  EXPECT_NE(h, device_hash(key, "user-1", "Chrome", "Linux", "203.0.113.0/24"));
  EXPECT_NE(h, device_hash(key, "user-1", "Firefox", "Windows", "203.0.113.0/24"));
  EXPECT_NE(h, device_hash(key, "user-1", "Firefox", "Linux", "203.0.114.0/24"));
  EXPECT_NE(h, device_hash(derive_key(random_bytes(32), "device"), "user-1", "Firefox", "Linux",
                           "203.0.113.0/24"));
  // Fields are length-prefixed: moving a boundary gives another message.
  EXPECT_NE(device_hash(key, "ab", "c", "d", "e"), device_hash(key, "a", "bc", "d", "e"));
}

}  // namespace
}  // namespace portcullis
