// AUTH-1, AUTH-2, AUTH-3, AUTH-6, AUTH-10: password hashing and policy.
// The `argon2` CLI (Debian package argon2, in the Makefile's deps) is the
// independent oracle for the PHC strings (DESIGN §11).
#include "app/auth/passwords.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <argon2.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/crypto/random.h"

namespace portcullis {
namespace {

using ::testing::Ge;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using namespace std::string_literals;

// The salt the CLI examples use: 16 bytes.
constexpr const char* kCliSalt = "somesalt16bytes!";

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

// Runs `command` through /bin/sh and returns its stdout without the trailing
// newline, or nullopt if it could not run or exited non-zero.
std::optional<std::string> run(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return std::nullopt;
  }
  std::string out;
  std::array<char, 512> buffer{};
  size_t got = 0;
  while ((got = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    out.append(buffer.data(), got);
  }
  int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return std::nullopt;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

// The encoded hash the `argon2` CLI makes of `password` with `salt` and `args`
// (e.g. "-id -t 2 -k 19456 -p 1"); always a 32-byte tag.
std::string cli_hash(const std::string& password,
                     const std::string& salt,
                     const std::string& args) {
  std::optional<std::string> out = run("printf '%s' " + shell_quote(password) + " | argon2 " +
                                       shell_quote(salt) + " " + args + " -l 32 -e");
  if (!out) {
    ADD_FAILURE() << "the argon2 CLI failed or is missing (apt-get install argon2): " << args;
    return "";
  }
  return *out;
}

double median_ms(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

template <typename F>
double time_ms(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// ---- hashing ---------------------------------------------------------------------

TEST(PasswordHashTest, AUTH3_HashIsArgon2idPhcWithFloorParameters) {
  std::string phc = hash_password("correct-otter-lantern-47");
  // 16-byte salt = 22 base64 characters, 32-byte tag = 43, no padding.
  EXPECT_THAT(phc, MatchesRegex(R"(\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$)"
                                R"([A-Za-z0-9+/]{43})"));
  EXPECT_FALSE(needs_rehash(phc));
  // A fresh salt every time.
  EXPECT_NE(hash_password("correct-otter-lantern-47"), phc);
}

TEST(PasswordHashTest, AUTH3_HashHonoursOtherParameters) {
  Argon2Params alt{.m_kib = 12288, .t = 3, .p = 1};
  std::string phc = hash_password("correct-otter-lantern-47", alt);
  EXPECT_THAT(phc, StartsWith("$argon2id$v=19$m=12288,t=3,p=1$"));
  EXPECT_FALSE(needs_rehash(phc, alt));
  EXPECT_TRUE(needs_rehash(phc));
  EXPECT_TRUE(verify_password("correct-otter-lantern-47", phc));
}

TEST(PasswordHashTest, AUTH3_AUTH10_VerifyAcceptsOnlyTheExactPassword) {
  const std::string pw = "Grüße aus Köln, 1987 und so weiter";
  std::string phc = hash_password(pw);
  EXPECT_TRUE(verify_password(pw, phc));
  EXPECT_FALSE(verify_password(pw.substr(0, pw.size() - 1), phc));  // AUTH-1: pw[:-1]
  EXPECT_FALSE(verify_password(pw + " ", phc));
  EXPECT_FALSE(verify_password("", phc));
  EXPECT_FALSE(verify_password("grüße aus köln, 1987 und so weiter", phc));
}

TEST(PasswordHashTest, AUTH1_LongPasswordsAreNotTruncated) {
  // 128 code points; bcrypt would ignore everything after byte 72.
  std::string pw = random_hex(64);
  ASSERT_EQ(pw.size(), 128U);
  std::string phc = hash_password(pw);
  std::string last_changed = pw;
  last_changed.back() = last_changed.back() == 'x' ? 'y' : 'x';
  EXPECT_TRUE(verify_password(pw, phc));
  EXPECT_FALSE(verify_password(last_changed, phc));
}

TEST(PasswordHashTest, AUTH3_HashFromArgon2CliVerifies) {
  const std::string pw = "tangerine walrus on a unicycle";
  std::string floor = cli_hash(pw, kCliSalt, "-id -t 2 -k 19456 -p 1");
  ASSERT_THAT(floor, StartsWith("$argon2id$v=19$m=19456,t=2,p=1$"));
  EXPECT_TRUE(verify_password(pw, floor));
  EXPECT_FALSE(verify_password(pw + "!", floor));
  EXPECT_FALSE(needs_rehash(floor));

  // -m 15 is 2^15 KiB: valid, but not our parameters.
  std::string bigger = cli_hash(pw, kCliSalt, "-id -t 2 -m 15 -p 1");
  ASSERT_THAT(bigger, StartsWith("$argon2id$v=19$m=32768,t=2,p=1$"));
  EXPECT_TRUE(verify_password(pw, bigger));
  EXPECT_TRUE(needs_rehash(bigger));
  EXPECT_FALSE(needs_rehash(bigger, Argon2Params{.m_kib = 32768, .t = 2, .p = 1}));

  std::string more_passes = cli_hash(pw, kCliSalt, "-id -t 3 -k 19456 -p 1");
  EXPECT_TRUE(verify_password(pw, more_passes));
  EXPECT_TRUE(needs_rehash(more_passes));

  std::string more_lanes = cli_hash(pw, kCliSalt, "-id -t 2 -k 19456 -p 2");
  EXPECT_TRUE(verify_password(pw, more_lanes));
  EXPECT_TRUE(needs_rehash(more_lanes));

  // Argon2 version 1.0 (v=16): still verifies, but is rehashed.
  std::string old_version = cli_hash(pw, kCliSalt, "-id -t 2 -k 19456 -p 1 -v 10");
  ASSERT_THAT(old_version, StartsWith("$argon2id$v=16$"));
  EXPECT_TRUE(verify_password(pw, old_version));
  EXPECT_TRUE(needs_rehash(old_version));

  // Another Argon2 variant is not accepted as a verifier at all.
  for (const char* variant : {"-i", "-d"}) {
    std::string other = cli_hash(pw, kCliSalt, std::string(variant) + " -t 2 -k 19456 -p 1");
    EXPECT_FALSE(verify_password(pw, other)) << other;
    EXPECT_TRUE(needs_rehash(other)) << other;
  }
}

TEST(PasswordHashTest, AUTH3_OurHashEqualsTheCliHashForTheSameSalt) {
  const std::string pw = "saffron heron over quiet docks";
  // The CLI takes the salt as an argument, so it cannot contain a NUL byte;
  // 16 random bytes have none 94 % of the time.
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::string phc = hash_password(pw);
    // $argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>
    const size_t tag_start = phc.rfind('$');
    const size_t salt_start = phc.rfind('$', tag_start - 1);
    ASSERT_THAT(phc, StartsWith("$argon2id$v=19$m=19456,t=2,p=1$"));
    ASSERT_EQ(salt_start, std::string("$argon2id$v=19$m=19456,t=2,p=1").size());
    std::string salt;
    ASSERT_TRUE(base64_decode(phc.substr(salt_start + 1, tag_start - salt_start - 1), &salt));
    ASSERT_EQ(salt.size(), 16U);
    if (salt.find('\0') != std::string::npos) {
      continue;
    }
    EXPECT_EQ(cli_hash(pw, salt, "-id -t 2 -k 19456 -p 1"), phc);
    return;
  }
  FAIL() << "no NUL-free salt in 50 hashes";
}

TEST(PasswordHashTest, AUTH3_MalformedHashesNeverVerifyAndAlwaysNeedRehash) {
  const std::string pw = "tangerine walrus on a unicycle";
  const std::string good = cli_hash(pw, kCliSalt, "-id -t 2 -k 19456 -p 1");
  ASSERT_TRUE(verify_password(pw, good));
  const std::string salt_tag = good.substr(good.find("$c29t"));  // "$<salt>$<tag>"
  const std::vector<std::string> malformed = {
      "",
      "$",
      "$argon2id$",
      "argon2id$v=19$m=19456,t=2,p=1" + salt_tag,
      "$argon2id$v=19$m=19456,t=2" + salt_tag,
      "$argon2id$v=19$m=19456,t=2,p=1,x=3" + salt_tag,
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQxNmJ5dGVzIQ",
      "$argon2id$v=19$m=19456,t=2,p=1" + salt_tag + "$",
      "$argon2id$v=19$m=19456,t=2,p=1" + salt_tag + "AAAA",
      "$argon2id$v=19$m=19456,t=2,p=1" + salt_tag.substr(0, salt_tag.size() - 4),
      "$argon2id$v=19$m=-1,t=2,p=1" + salt_tag,
      "$argon2id$v=19$m=19456,t=two,p=1" + salt_tag,
      "$argon2id$v=19$m=19456,t=0,p=1" + salt_tag,
      "$argon2id$v=19$m=4294967295,t=2,p=1" + salt_tag,  // 4 TiB: refused before allocating
      "$argon2id$v=19$m=99999999999,t=2,p=1" + salt_tag,
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNh*HQxNmJ5dGVzIQ" +
          salt_tag.substr(salt_tag.rfind('$')),
      "$argon2id$v=19$m=19456,t=2,p=1" + salt_tag + std::string(1, '\0'),
      "$argon2id\0$v=19$m=19456,t=2,p=1"s + salt_tag,
      "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  // bcrypt
      "$pbkdf2-sha256$29000$N2ZMSW0NYQvM$ZmZlZmI3ZmU0YWU5Y2QzM2VkM2ZmMWY5YjZmMjM",
      "plaintext password",
  };
  for (const std::string& phc : malformed) {
    SCOPED_TRACE(phc);
    EXPECT_FALSE(verify_password(pw, phc));
    EXPECT_TRUE(needs_rehash(phc));
  }
}

TEST(PasswordHashTest, AUTH3_NeedsRehashWhenAnyParameterDiffers) {
  struct Case {
    std::string phc_prefix;
    bool expected;
  };
  // The tail is a well-formed 16-byte salt and 32-byte tag.
  const std::string tail = "$c29tZXNhbHQxNmJ5dGVzIQ$" + std::string(43, 'A');
  const std::vector<Case> cases = {
      {"$argon2id$v=19$m=19456,t=2,p=1", false},
      {"$argon2id$v=19$m=12288,t=2,p=1", true},  // weaker memory
      {"$argon2id$v=19$m=65536,t=2,p=1", true},  // stronger, still not ours
      {"$argon2id$v=19$m=19456,t=1,p=1", true},  // fewer passes
      {"$argon2id$v=19$m=19456,t=2,p=4", true},  // more lanes
      {"$argon2id$v=16$m=19456,t=2,p=1", true},  // version 1.0
      {"$argon2id$m=19456,t=2,p=1", true},       // no version field = 1.0
      {"$argon2i$v=19$m=19456,t=2,p=1", true},   // another variant
      {"$argon2d$v=19$m=19456,t=2,p=1", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.phc_prefix);
    EXPECT_EQ(needs_rehash(c.phc_prefix + tail), c.expected);
  }
  // An 8-byte salt or a 16-byte tag is below the floor.
  EXPECT_TRUE(needs_rehash("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$" + std::string(43, 'A')));
  EXPECT_TRUE(needs_rehash("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQxNmJ5dGVzIQ$" +
                           std::string(22, 'A')));
}

// ---- where the 19 MiB live (DESIGN §2, issue #10 item 5) ----------------------------

// Resident pages of [base, base + bytes), by mincore(2).
size_t resident_pages(const void* base, size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec((bytes + page - 1) / page);
  if (mincore(const_cast<void*>(base), bytes, vec.data()) != 0) {
    ADD_FAILURE() << "mincore failed";
    return SIZE_MAX;
  }
  return static_cast<size_t>(
      std::count_if(vec.begin(), vec.end(), [](unsigned char v) { return (v & 1U) != 0; }));
}

// The PHC string libargon2's own encoder makes (the path every earlier hash took).
std::string libargon2_hash(const std::string& password,
                           const std::string& salt,
                           const Argon2Params& params) {
  std::string encoded(argon2_encodedlen(params.t, params.m_kib, params.p,
                                        static_cast<uint32_t>(salt.size()), 32, Argon2_id),
                      '\0');
  EXPECT_EQ(
      argon2id_hash_encoded(params.t, params.m_kib, params.p, password.data(), password.size(),
                            salt.data(), salt.size(), 32, encoded.data(), encoded.size()),
      ARGON2_OK);
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

class Argon2MemoryTest : public ::testing::TestWithParam<Argon2Memory> {
 protected:
  void SetUp() override { set_argon2_memory(GetParam()); }
  void TearDown() override {
    set_argon2_memory(default_argon2_memory());
    set_argon2_release(Argon2Release::kAfterEachHash);
  }
};

TEST_P(Argon2MemoryTest, SamePhcStringAsLibargon2ForTheSameSalt) {
  ASSERT_EQ(argon2_memory(), GetParam());
  const std::string pw = "saffron heron over quiet docks";
  // Salts with NUL bytes and every base64 tail length (16, 17, 18 bytes).
  const std::vector<std::string> salts = {std::string(16, '\0'), random_bytes(16), random_bytes(17),
                                          random_bytes(18)};
  const std::vector<Argon2Params> params = {Argon2Params{},
                                            Argon2Params{.m_kib = 12288, .t = 3, .p = 1},
                                            Argon2Params{.m_kib = 4096, .t = 1, .p = 2}};
  for (const Argon2Params& p : params) {
    for (const std::string& salt : salts) {
      SCOPED_TRACE(std::to_string(p.m_kib) + "/" + std::to_string(salt.size()));
      const std::string ours = internal::hash_password_with_salt(pw, salt, p);
      EXPECT_EQ(ours, libargon2_hash(pw, salt, p));
      EXPECT_TRUE(verify_password(pw, ours));
      EXPECT_FALSE(verify_password(pw + ".", ours));
      // And libargon2's own verifier agrees with our string.
      EXPECT_EQ(argon2id_verify(ours.c_str(), pw.data(), pw.size()), ARGON2_OK);
    }
  }
}

TEST_P(Argon2MemoryTest, VerifiesCliHashesAndRefusesTheirNeighbours) {
  const std::string pw = "tangerine walrus on a unicycle";
  for (const char* args :
       {"-id -t 2 -k 19456 -p 1", "-id -t 2 -k 19456 -p 1 -v 10", "-id -t 1 -k 8192 -p 4"}) {
    SCOPED_TRACE(args);
    const std::string cli = cli_hash(pw, kCliSalt, args);
    EXPECT_TRUE(verify_password(pw, cli));
    EXPECT_FALSE(verify_password(pw + "!", cli));
    // A changed last tag character: a different 32-byte tag (or a non-canonical encoding).
    std::string tampered = cli;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verify_password(pw, tampered));
  }
  // libargon2 refuses non-minimal numbers and non-zero base64 padding bits; so do we.
  const std::string good = cli_hash(pw, kCliSalt, "-id -t 2 -k 19456 -p 1");
  std::string leading_zero = good;
  leading_zero.replace(leading_zero.find("m=19456"), 7, "m=019456");
  EXPECT_FALSE(verify_password(pw, leading_zero));
  EXPECT_NE(argon2id_verify(leading_zero.c_str(), pw.data(), pw.size()), ARGON2_OK);
}

TEST_P(Argon2MemoryTest, ArenaKeepsItsMappingAndReturnsItsPagesAfterEachHash) {
  const Argon2ArenaInfo before = argon2_arena_info();
  const std::string pw = "correct-otter-lantern-47";
  const std::string phc = hash_password(pw);
  ASSERT_TRUE(verify_password(pw, phc));
  const Argon2ArenaInfo first = argon2_arena_info();
  if (GetParam() == Argon2Memory::kPerHash) {
    // libargon2's malloc/free: the arena is not used at all.
    EXPECT_EQ(first.hashes, before.hashes);
    return;
  }
  EXPECT_EQ(first.hashes, before.hashes + 2);
  ASSERT_NE(first.base, nullptr);
  EXPECT_GE(first.bytes, size_t{19456} * 1024);
  // RSS back to the baseline: none of the 19 MiB is resident between hashes.
  EXPECT_EQ(resident_pages(first.base, first.bytes), 0U);
  if (GetParam() == Argon2Memory::kArenaHugePages) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first.base) % (size_t{2} << 20), 0U);
    EXPECT_EQ(first.bytes % (size_t{2} << 20), 0U);
  }
  // The next hash reuses the same mapping (no mmap/munmap per hash).
  ASSERT_FALSE(verify_password("another password entirely", phc));
  const Argon2ArenaInfo second = argon2_arena_info();
  EXPECT_EQ(second.base, first.base);
  EXPECT_EQ(second.bytes, first.bytes);
  EXPECT_EQ(second.hashes, first.hashes + 1);
  EXPECT_EQ(resident_pages(second.base, second.bytes), 0U);
}

TEST_P(Argon2MemoryTest, WhenIdleTheWipedPagesStayUntilReleased) {
  set_argon2_release(Argon2Release::kWhenIdle);
  const std::string pw = "correct-otter-lantern-47";
  const std::string phc = hash_password(pw);
  ASSERT_TRUE(verify_password(pw, phc));
  const Argon2ArenaInfo info = argon2_arena_info();
  if (GetParam() == Argon2Memory::kPerHash) {
    // A fresh mapping per hash is unmapped at once whatever the policy.
    EXPECT_FALSE(argon2_memory_resident());
    EXPECT_FALSE(release_argon2_memory());
    set_argon2_release(Argon2Release::kAfterEachHash);
    return;
  }
  ASSERT_NE(info.base, nullptr);
  EXPECT_TRUE(argon2_memory_resident());
  EXPECT_GT(resident_pages(info.base, info.bytes), 0U);
  // What stays resident between hashes was wiped when the hash ended.
  const auto* bytes = static_cast<const unsigned char*>(info.base);
  EXPECT_TRUE(
      std::all_of(bytes, bytes + size_t{19456} * 1024, [](unsigned char b) { return b == 0; }));
  // The next hash reuses the resident pages and still verifies.
  EXPECT_TRUE(verify_password(pw, phc));
  EXPECT_TRUE(release_argon2_memory());
  EXPECT_FALSE(argon2_memory_resident());
  EXPECT_EQ(resident_pages(info.base, info.bytes), 0U);
  EXPECT_FALSE(release_argon2_memory());  // nothing left to give back
  set_argon2_release(Argon2Release::kAfterEachHash);
}

TEST_P(Argon2MemoryTest, HashesBeyondTheArenaCapGetAMappingOfTheirOwn) {
  const std::string pw = "correct-otter-lantern-47";
  (void)hash_password(pw);  // the arena exists (in arena modes) at the default size
  const Argon2ArenaInfo before = argon2_arena_info();
  const Argon2Params big{
      .m_kib = static_cast<uint32_t>(kMaxArenaBytes / 1024 + 1024), .t = 1, .p = 1};
  const std::string phc = hash_password(pw, big);
  EXPECT_TRUE(verify_password(pw, phc));
  const Argon2ArenaInfo after = argon2_arena_info();
  EXPECT_EQ(after.base, before.base);
  EXPECT_EQ(after.bytes, before.bytes);
  EXPECT_EQ(after.hashes, before.hashes);
}

INSTANTIATE_TEST_SUITE_P(AllModes,
                         Argon2MemoryTest,
                         ::testing::Values(Argon2Memory::kPerHash,
                                           Argon2Memory::kArena,
                                           Argon2Memory::kArenaPrefault,
                                           Argon2Memory::kArenaHugePages),
                         [](const ::testing::TestParamInfo<Argon2Memory>& mode) {
                           std::string name = argon2_memory_name(mode.param);
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

TEST(Argon2MemoryModes, DefaultFollowsTheKernelsTransparentHugePages) {
  // The fallback where THP are off is the plain arena; both hash as above.
  EXPECT_EQ(default_argon2_memory(), transparent_huge_pages_available()
                                         ? Argon2Memory::kArenaHugePages
                                         : Argon2Memory::kArena);
  EXPECT_EQ(parse_argon2_memory("auto"), default_argon2_memory());
  for (Argon2Memory mode : {Argon2Memory::kPerHash, Argon2Memory::kArena,
                            Argon2Memory::kArenaPrefault, Argon2Memory::kArenaHugePages}) {
    EXPECT_EQ(parse_argon2_memory(argon2_memory_name(mode)), mode);
  }
  EXPECT_EQ(parse_argon2_memory("hugepages"), std::nullopt);
  EXPECT_EQ(parse_argon2_memory(""), std::nullopt);
}

// ---- unknown user: same cost (AUTH-6) ---------------------------------------------

TEST(PasswordHashTest, AUTH6_EveryVerificationIsCountedOnBothPaths) {
  std::string phc = hash_password("correct-otter-lantern-47");
  verify_dummy("warm-up");
  uint64_t before = verification_count();
  EXPECT_FALSE(verify_password("wrong password here", phc));
  EXPECT_EQ(verification_count(), before + 1);
  verify_dummy("wrong password here");
  EXPECT_EQ(verification_count(), before + 2);
  EXPECT_FALSE(verify_password("x", "not a hash"));
  EXPECT_EQ(verification_count(), before + 3);
}

TEST(PasswordHashTest, AUTH6_DummyVerifyCostsAboutAsMuchAsAWrongPassword) {
  std::string phc = hash_password("correct-otter-lantern-47");
  verify_dummy("warm-up");  // makes the dummy hash once
  constexpr int kRounds = 15;
  std::vector<double> real;
  std::vector<double> dummy;
  for (int i = 0; i < kRounds; ++i) {  // interleaved, so drift hits both alike
    real.push_back(time_ms([&] { EXPECT_FALSE(verify_password("wrong password 12345", phc)); }));
    dummy.push_back(time_ms([&] { verify_dummy("wrong password 12345"); }));
  }
  const double real_ms = median_ms(real);
  const double dummy_ms = median_ms(dummy);
  std::printf("[ AUTH-6   ] median over %d: wrong password %.2f ms, unknown user (dummy) %.2f ms\n",
              kRounds, real_ms, dummy_ms);
  // Loose on purpose: a unit test on a shared machine only catches a skipped
  // or much cheaper hash. The < 10 % check is the black-box AUTH-6 test.
  EXPECT_LT(dummy_ms, 2.0 * real_ms);
  EXPECT_LT(real_ms, 2.0 * dummy_ms);
}

// ---- policy (AUTH-1, AUTH-2) ----------------------------------------------------------

struct PolicyCase {
  const char* name;
  std::string password;
  PasswordProblem expected;
};

void PrintTo(const PolicyCase& c, std::ostream* os) { *os << c.name; }

const std::vector<std::string> kContext = {"Acme Corp", "jane.doe"};

std::string policy_case_name(const ::testing::TestParamInfo<PolicyCase>& param_info) {
  return param_info.param.name;
}

class PasswordPolicyTest : public ::testing::TestWithParam<PolicyCase> {};

const char* problem_name(PasswordProblem problem) {
  switch (problem) {
    case PasswordProblem::kNone:
      return "kNone";
    case PasswordProblem::kTooShort:
      return "kTooShort";
    case PasswordProblem::kTooLong:
      return "kTooLong";
    case PasswordProblem::kBlocklisted:
      return "kBlocklisted";
    case PasswordProblem::kContextWord:
      return "kContextWord";
  }
  return "?";
}

TEST_P(PasswordPolicyTest, Check) {
  EXPECT_STREQ(problem_name(check_password_policy(GetParam().password, kContext)),
               problem_name(GetParam().expected))
      << GetParam().password;
}

std::string repeat(const std::string& unit, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += unit;
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    AUTH1_Length,
    PasswordPolicyTest,
    ::testing::Values(PolicyCase{"Ascii14", "vivid-otter-7Q", PasswordProblem::kTooShort},
                      PolicyCase{"Ascii15", "vivid-otter-7Qx", PasswordProblem::kNone},
                      PolicyCase{"Ascii64", "k3" + repeat("vivid otter paper ", 3) + "lantern.",
                                 PasswordProblem::kNone},
                      PolicyCase{"Ascii128", "Zq" + random_hex(63), PasswordProblem::kNone},
                      PolicyCase{"Ascii129", "Zq" + random_hex(63) + "x",
                                 PasswordProblem::kTooLong},
                      // 14 code points in 20 bytes: counted in code points, not bytes.
                      PolicyCase{"Multibyte14", "žluťoučký kůň!", PasswordProblem::kTooShort},
                      PolicyCase{"Multibyte15", "žluťoučký kůň!!", PasswordProblem::kNone},
                      PolicyCase{"Multibyte15b", "Grüße aus Köln!", PasswordProblem::kNone},
                      PolicyCase{"EAcute14", repeat("é", 14), PasswordProblem::kTooShort},
                      // 15 × "é" is long enough (15 code points, 30 bytes) but is one
                      // character repeated, so the block list refuses it.
                      PolicyCase{"EAcute15", repeat("é", 15), PasswordProblem::kBlocklisted},
                      PolicyCase{"EAcute129", repeat("é", 129), PasswordProblem::kTooLong},
                      PolicyCase{"Spaces", "   a  quiet   river   ", PasswordProblem::kNone},
                      // No composition rules: all lower case, no digits, no symbols.
                      PolicyCase{"NoComposition", "saffronheronoverdocks", PasswordProblem::kNone}),
    policy_case_name);

INSTANTIATE_TEST_SUITE_P(
    AUTH2_Blocklist,
    PasswordPolicyTest,
    ::testing::Values(
        PolicyCase{"PasswordDigits", "password1234567890", PasswordProblem::kBlocklisted},
        PolicyCase{"PasswordBangs", "Password!!!!!!!!!!", PasswordProblem::kBlocklisted},
        PolicyCase{"PasswordDoubled", "ppaasssswwoorrdd2024", PasswordProblem::kBlocklisted},
        PolicyCase{"PasswordPadded", "  !!PASSWORD??  2024", PasswordProblem::kBlocklisted},
        PolicyCase{"AllDigits", "1234567890123456", PasswordProblem::kBlocklisted},
        PolicyCase{"AllPunctuation", "!@#$%^&*()_+-=[]", PasswordProblem::kBlocklisted},
        PolicyCase{"TwoLetters", "ab12345678901234", PasswordProblem::kBlocklisted},
        PolicyCase{"Qwerty", "qwertyuiop123456", PasswordProblem::kBlocklisted},
        PolicyCase{"QwertyLong", "qwertyuiopasdfgh", PasswordProblem::kBlocklisted},
        PolicyCase{"QwertyBackwards", "hgfdsapoiuytrewq", PasswordProblem::kBlocklisted},
        PolicyCase{"Alphabet", "abcdefghijklmnop", PasswordProblem::kBlocklisted},
        PolicyCase{"ColumnWalk", "1qaz2wsx3edc4rfv", PasswordProblem::kBlocklisted},
        PolicyCase{"Repeated", "iloveyouiloveyou", PasswordProblem::kBlocklisted},
        PolicyCase{"RepeatedShort", "abcabcabcabcabc", PasswordProblem::kBlocklisted},
        PolicyCase{"OneLetter", "aaaaaaaaaaaaaaaa", PasswordProblem::kBlocklisted},
        PolicyCase{"Common", "Sunshine2024!!!!!", PasswordProblem::kBlocklisted},
        PolicyCase{"Leet", "p@ssw0rd12345678", PasswordProblem::kBlocklisted},
        PolicyCase{"Dragon", "DRAGON_123456789", PasswordProblem::kBlocklisted}),
    policy_case_name);

INSTANTIATE_TEST_SUITE_P(
    AUTH2_ContextWords,
    PasswordPolicyTest,
    ::testing::Values(
        PolicyCase{"TenantTwice", "acmecorpacmecorp", PasswordProblem::kContextWord},
        PolicyCase{"TenantPiece", "AcmeAcmeAcmeAcme", PasswordProblem::kContextWord},
        PolicyCase{"TenantInside", "my secret acme vault", PasswordProblem::kContextWord},
        PolicyCase{"TenantDoubled", "aaccmmee rocks forever", PasswordProblem::kContextWord},
        PolicyCase{"EmailLocalPart", "jane.doe.2024.summer", PasswordProblem::kContextWord},
        PolicyCase{"EmailPiece", "Jane Family Holidays", PasswordProblem::kContextWord},
        PolicyCase{"Product", "Portcullis-Castle-Gate", PasswordProblem::kContextWord},
        PolicyCase{"ProductPadded", "PORTCULLIS123456", PasswordProblem::kContextWord}),
    policy_case_name);

TEST(PasswordPolicy, AUTH2_ShortContextWordsOnlyMatchWhenEqual) {
  // "Bob" (3 code points) does not forbid every password with "bob" in it ...
  EXPECT_EQ(check_password_policy("bobcat lives in the forest", {"Bob"}), PasswordProblem::kNone);
  // ... but "Bob" plus padding is just "bob".
  EXPECT_EQ(check_password_policy("Bob1234567890123", {"Bob"}), PasswordProblem::kContextWord);
}

TEST(PasswordPolicy, AUTH1_MinimumIsConfigurableForMfaTenants) {
  EXPECT_EQ(check_password_policy("otter-7Qx", {}, kMinPasswordCodePointsWithMfa),
            PasswordProblem::kNone);
  EXPECT_EQ(check_password_policy("otter-7", {}, kMinPasswordCodePointsWithMfa),
            PasswordProblem::kTooShort);
  EXPECT_EQ(check_password_policy("otter-7Qx", {}), PasswordProblem::kTooShort);
}

TEST(PasswordPolicy, AUTH2_NormalisationIsDocumented) {
  EXPECT_EQ(normalise_for_blocklist("password"), "pasword");
  EXPECT_EQ(normalise_for_blocklist("passsword"), "pasword");
  EXPECT_EQ(normalise_for_blocklist("password1234567890"), "pasword");
  EXPECT_EQ(normalise_for_blocklist("Password!!!!!!!!!!!"), "pasword");
  EXPECT_EQ(normalise_for_blocklist("ppaasssswwoorrdd2024"), "pasword");
  EXPECT_EQ(normalise_for_blocklist(" \t12pass word!34\n"), "pas word");  // inner kept
  EXPECT_EQ(normalise_for_blocklist("p@ss-w0rd"), "p@s-w0rd");
  EXPECT_EQ(normalise_for_blocklist("1234567890123456"), "");
  // Non-ASCII is kept as is (no case folding) and collapsed per code point.
  EXPECT_EQ(normalise_for_blocklist("ÄÄÄbcÉ"), "ÄbcÉ");
}

TEST(PasswordPolicy, AUTH2_BlocklistHasAtLeast3000NormalisedEntries) {
  size_t size = blocklist_size();
  std::printf("[ AUTH-2   ] block list: %zu distinct normalised entries\n", size);
  EXPECT_THAT(size, Ge(3000U));
}

TEST(PasswordPolicy, AUTH2_RandomPassphrasesPass) {
  // A strong password is never refused by the block list (no false positives
  // on random input): 200 random 20-character base64url strings.
  for (int i = 0; i < 200; ++i) {
    std::string pw = base64url_encode(random_bytes(15));
    EXPECT_EQ(check_password_policy(pw, {}), PasswordProblem::kNone) << pw;
  }
}

}  // namespace
}  // namespace portcullis
