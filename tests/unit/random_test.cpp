// CRY-5, TEN-5: randomness and ids.
#include "app/crypto/random.h"

#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "app/crypto/hash.h"

namespace portcullis {
namespace {

TEST(RandomTest, TEN5_UuidV7IsWellFormedAndTimeOrdered) {
  std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::string prev = uuid_v7();
  std::set<std::string> seen{prev};
  for (int i = 0; i < 1000; ++i) {
    std::string id = uuid_v7();
    EXPECT_TRUE(std::regex_match(id, shape)) << id;
    EXPECT_GE(id.substr(0, 13), prev.substr(0, 13));  // the 48-bit ms prefix never goes back
    EXPECT_TRUE(seen.insert(id).second);
    prev = id;
  }
}

TEST(RandomTest, Base64RoundTripsAndRejectsGarbage) {
  for (size_t n = 0; n < 40; ++n) {
    std::string raw = random_bytes(n);
    std::string back;
    ASSERT_TRUE(base64_decode(base64_encode(raw), &back));
    EXPECT_EQ(back, raw);
    ASSERT_TRUE(base64_decode(base64url_encode(raw), &back));
    EXPECT_EQ(back, raw);
  }
  std::string out;
  EXPECT_FALSE(base64_decode("ab$d", &out));
  EXPECT_FALSE(base64_decode("a", &out));
}

TEST(RandomTest, Sha256MatchesFips180Vector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(RandomTest, ConstantTimeEquals) {
  EXPECT_TRUE(constant_time_equals("secret", "secret"));
  EXPECT_FALSE(constant_time_equals("secret", "secreT"));
  EXPECT_FALSE(constant_time_equals("secret", "secret1"));
}

}  // namespace
}  // namespace portcullis
