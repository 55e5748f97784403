// MFA-1, MFA-2, MFA-6: TOTP/HOTP against the RFC vectors and oathtool, base32,
// the otpauth URI, backup codes and the enrolment QR code.
#include "app/auth/totp.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/auth/qr_svg.h"
#include "app/crypto/random.h"

namespace portcullis {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// RFC 6238 Appendix B / RFC 4226 Appendix D: the 20-byte ASCII key.
const std::string kRfcKey = "12345678901234567890";

struct CommandResult {
  int status = -1;
  std::string out;
};

// Runs `command` through /bin/sh and returns its exit status and stdout.
CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buffer[4096];
  size_t got = 0;
  while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    result.out.append(buffer, got);
  }
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool have_tool(const std::string& name) {
  return run("command -v " + name + " >/dev/null 2>&1").status == 0;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

// The code oathtool computes for `key` at `unix_seconds` (MFA-1's independent
// reference). The base32 text is [A-Z2-7] only, so it is safe in a shell line.
std::string oathtool_totp(const std::string& key, int64_t unix_seconds) {
  const CommandResult r = run("oathtool --totp -b " + base32_encode(key) + " -N @" +
                              std::to_string(unix_seconds) + " 2>&1");
  EXPECT_EQ(r.status, 0) << r.out;
  return trim(r.out);
}

// --- base32 ------------------------------------------------------------------

TEST(Base32Test, DecodeRefusesCharactersOutsideTheAlphabet) {
  EXPECT_FALSE(base32_decode("MZXW6YTB0I"));  // zero is not in RFC 4648 base32
  EXPECT_FALSE(base32_decode("MZXW6YT1OI"));
  EXPECT_FALSE(base32_decode("MZXW-6YTB"));
  EXPECT_FALSE(base32_decode("MZXW6\nYTB"));
  EXPECT_FALSE(base32_decode("MY\xC3\x89"));
  EXPECT_FALSE(base32_decode("M"));    // 1 symbol cannot make a byte
  EXPECT_FALSE(base32_decode("MZX"));  // nor 3, nor 6
  EXPECT_FALSE(base32_decode("MZXW6Y"));
}

TEST(Base32Test, Rfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"f", "MY"},
      {"fo", "MZXQ"},
      {"foo", "MZXW6"},
      {"foob", "MZXW6YQ"},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base32_encode(plain), encoded) << plain;
    EXPECT_EQ(base32_decode(encoded), plain) << encoded;
  }
}

TEST(Base32Test, DecodeIsCaseInsensitiveAndIgnoresSpacesAndPadding) {
  EXPECT_EQ(base32_decode("mzxw6ytboi"), "foobar");
  EXPECT_EQ(base32_decode("MZXW 6YTB OI"), "foobar");
  EXPECT_EQ(base32_decode("MZXW6YTBOI======"), "foobar");
  EXPECT_EQ(base32_decode("MY======"), "f");
  EXPECT_EQ(base32_decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq"), kRfcKey);
}

TEST(Base32Test, RoundTripsRandomBytes) {
  for (size_t n = 0; n < 64; ++n) {
    const std::string raw = random_bytes(n);
    const std::string text = base32_encode(raw);
    EXPECT_EQ(text.size(), (n * 8 + 4) / 5);
    EXPECT_TRUE(std::regex_match(text, std::regex("^[A-Z2-7]*$"))) << text;
    EXPECT_EQ(base32_decode(text), raw) << n;
  }
}

// --- HOTP / TOTP vectors ---------------------------------------------------------

TEST(HotpTest, MFA1_Rfc4226AppendixDValues) {
  const std::vector<std::string> expected = {"755224", "287082", "359152", "969429", "338314",
                                             "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t counter = 0; counter < expected.size(); ++counter) {
    EXPECT_EQ(hotp(kRfcKey, counter), expected[counter]) << counter;
  }
}

TEST(HotpTest, RefusesDigitCountsItCannotProduce) {
  EXPECT_THROW(static_cast<void>(hotp(kRfcKey, 0, 0)), std::invalid_argument);
  EXPECT_THROW(static_cast<void>(hotp(kRfcKey, 0, 10)), std::invalid_argument);
}

TEST(TotpTest, MFA1_Rfc6238AppendixBSha1Vectors) {
  const std::vector<std::pair<int64_t, std::string>> vectors = {
      {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
      {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
  };
  for (const auto& [t, code] : vectors) {
    EXPECT_EQ(hotp(kRfcKey, static_cast<uint64_t>(totp_step(t)), 8), code) << t;
  }
}

TEST(TotpTest, MFA1_StepIsFloorOfThirtySecondsFromTheEpoch) {
  EXPECT_EQ(totp_step(0), 0);
  EXPECT_EQ(totp_step(29), 0);
  EXPECT_EQ(totp_step(30), 1);
  EXPECT_EQ(totp_step(59), 1);
  EXPECT_EQ(totp_step(1111111111), 37037037);
  EXPECT_EQ(totp_step(20000000000), 666666666);
  EXPECT_EQ(totp_step(-1), -1);
  EXPECT_EQ(totp_step(-30), -1);
  EXPECT_EQ(totp_step(-31), -2);
  EXPECT_THROW(static_cast<void>(totp_step(10, 0)), std::invalid_argument);
}

TEST(TotpTest, MFA1_NewSecretIsTwentyFreshBytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string secret = new_totp_secret();
    EXPECT_EQ(secret.size(), 20u);
    EXPECT_TRUE(seen.insert(secret).second);
  }
}

// --- verify_totp (MFA-2) ---------------------------------------------------------

class VerifyTotpTest : public ::testing::Test {
 protected:
  // Mid-step, so ±30 s moves exactly one step.
  static constexpr int64_t kNow = 1111111111;
  const int64_t step_ = totp_step(kNow);

  std::string code_at(int64_t step) const { return hotp(kRfcKey, static_cast<uint64_t>(step)); }
};

TEST_F(VerifyTotpTest, MFA2_RefusesMalformedCodes) {
  const std::string good = code_at(step_);
  ASSERT_TRUE(verify_totp(kRfcKey, good, kNow).ok);
  for (const std::string& bad :
       {std::string(""), good.substr(0, 5), good + "0", "0" + good, good.substr(0, 5) + "a",
        good.substr(0, 3) + " " + good.substr(3), " " + good.substr(1), good.substr(0, 5) + '\0',
        std::string("\xD9\xA1\xD9\xA2\xD9\xA3"),  // Arabic-Indic digits
        std::string("-12345"), std::string("+12345")}) {
    EXPECT_FALSE(verify_totp(kRfcKey, bad, kNow).ok) << bad;
  }
}

TEST_F(VerifyTotpTest, MFA2_RefusesTwoStepsOrMoreAway) {
  // The refused codes must differ from every accepted one, or the test proves nothing.
  std::set<std::string> accepted = {code_at(step_ - 1), code_at(step_), code_at(step_ + 1)};
  for (int64_t offset : {-3, -2, 2, 3, 100}) {
    const std::string code = code_at(step_ + offset);
    ASSERT_EQ(accepted.count(code), 0u) << offset;
    EXPECT_FALSE(verify_totp(kRfcKey, code, kNow).ok) << offset;
    EXPECT_FALSE(verify_totp(kRfcKey, code, kNow, 5).ok) << "window is capped at 1: " << offset;
  }
}

TEST_F(VerifyTotpTest, MFA2_RefusesAnotherKeysCodeAndAWrongCode) {
  const std::string other_key = "12345678901234567891";
  EXPECT_FALSE(verify_totp(other_key, code_at(step_), kNow).ok);
  std::string wrong = code_at(step_);
  wrong[5] = wrong[5] == '9' ? '0' : static_cast<char>(wrong[5] + 1);
  if (wrong != code_at(step_ - 1) && wrong != code_at(step_ + 1)) {
    EXPECT_FALSE(verify_totp(kRfcKey, wrong, kNow).ok);
  }
}

TEST_F(VerifyTotpTest, MFA2_AcceptsOneStepEitherWayAndReportsTheStep) {
  for (int64_t offset : {-1, 0, 1}) {
    const TotpMatch m = verify_totp(kRfcKey, code_at(step_ + offset), kNow);
    EXPECT_TRUE(m.ok) << offset;
    EXPECT_EQ(m.step, step_ + offset);
  }
}

TEST_F(VerifyTotpTest, MFA2_WindowZeroAcceptsOnlyTheCurrentStep) {
  EXPECT_TRUE(verify_totp(kRfcKey, code_at(step_), kNow, 0).ok);
  EXPECT_FALSE(verify_totp(kRfcKey, code_at(step_ - 1), kNow, 0).ok);
  EXPECT_FALSE(verify_totp(kRfcKey, code_at(step_ + 1), kNow, 0).ok);
}

TEST_F(VerifyTotpTest, MFA2_StepBoundariesFollowTheClock) {
  // At t = 59 (step 1) the step-1 code is current; at t = 60 (step 2) it is T-1;
  // at t = 90 (step 3) it is T-2 and refused.
  const std::string code = code_at(1);
  EXPECT_EQ(verify_totp(kRfcKey, code, 59).step, 1);
  EXPECT_TRUE(verify_totp(kRfcKey, code, 60).ok);
  EXPECT_TRUE(verify_totp(kRfcKey, code, 89).ok);
  EXPECT_FALSE(verify_totp(kRfcKey, code, 90).ok);
  // At t = -31, T = -2: every candidate step is before T0, so nothing matches.
  EXPECT_FALSE(verify_totp(kRfcKey, code_at(0), -31).ok);
  EXPECT_TRUE(verify_totp(kRfcKey, code_at(0), -1).ok) << "T = -1: step 0 is T+1";
}

// --- oathtool cross-check (MFA-1, MFA-2) ---------------------------------------------

TEST(TotpOathtoolTest, MFA1_MFA2_AgreesWithOathtoolForRandomSecretsAndTimes) {
  if (!have_tool("oathtool")) {
    GTEST_SKIP() << "oathtool not installed (apt-get install oathtool)";
  }
  const std::string times_raw = random_bytes(8 * 8);
  std::vector<int64_t> times = {1111111109, 1234567890, 2000000000, 20000000000};
  for (size_t i = 0; i < 8; ++i) {
    uint64_t v = 0;
    for (size_t b = 0; b < 8; ++b) {
      v = (v << 8) | static_cast<unsigned char>(times_raw[i * 8 + b]);
    }
    times.push_back(static_cast<int64_t>(100 + v % 4000000000u));  // 1970 .. 2096
  }
  for (int64_t t : times) {
    const std::string key = new_totp_secret();
    SCOPED_TRACE("secret " + base32_encode(key) + " at @" + std::to_string(t));
    const int64_t step = totp_step(t);

    const std::string now_code = oathtool_totp(key, t);
    ASSERT_THAT(now_code, ::testing::MatchesRegex("[0-9]{6}"));
    EXPECT_EQ(hotp(key, static_cast<uint64_t>(step)), now_code);
    EXPECT_TRUE(verify_totp(key, now_code, t).ok);

    // The server's clock is t; the authenticator's is off by ±30 s (accepted) or ±60 s (refused).
    const std::set<std::string> accepted = {hotp(key, static_cast<uint64_t>(step - 1)),
                                            hotp(key, static_cast<uint64_t>(step)),
                                            hotp(key, static_cast<uint64_t>(step + 1))};
    for (int64_t skew : {-30, 30}) {
      EXPECT_TRUE(verify_totp(key, oathtool_totp(key, t + skew), t).ok) << skew;
    }
    for (int64_t skew : {-60, 60}) {
      const std::string code = oathtool_totp(key, t + skew);
      if (accepted.count(code) == 0) {  // a 1-in-10^6 collision would be a valid code
        EXPECT_FALSE(verify_totp(key, code, t).ok) << skew;
      }
    }
  }
}

TEST(TotpOathtoolTest, MFA1_Rfc6238VectorsMatchOathtool) {
  if (!have_tool("oathtool")) {
    GTEST_SKIP() << "oathtool not installed (apt-get install oathtool)";
  }
  for (int64_t t : {int64_t{59}, int64_t{1111111111}, int64_t{20000000000}}) {
    const CommandResult r = run("oathtool --totp -d 8 -b " + base32_encode(kRfcKey) + " -N @" +
                                std::to_string(t) + " 2>&1");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(trim(r.out), hotp(kRfcKey, static_cast<uint64_t>(totp_step(t)), 8)) << t;
  }
}

// --- otpauth URI (MFA-1) -------------------------------------------------------------

TEST(OtpauthUriTest, MFA1_ExactUriForAKnownSecret) {
  EXPECT_EQ(otpauth_uri("ann@example.test", base32_encode(kRfcKey)),
            "otpauth://totp/portcullis:ann%40example.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=portcullis&algorithm=SHA1&digits=6&period=30");
}

TEST(OtpauthUriTest, MFA1_LabelIsPercentEncoded) {
  const std::string uri = otpauth_uri("a+b c/d?e&f=g#h:é~x_y-z.w@t", "MY");
  EXPECT_THAT(uri, StartsWith("otpauth://totp/portcullis:a%2Bb%20c%2Fd%3Fe%26f%3Dg%23h%3A%C3%A9~x_"
                              "y-z.w%40t?secret=MY&issuer=portcullis"));
}

// --- backup codes (MFA-6) -----------------------------------------------------------

TEST(BackupCodesTest, MFA6_NormalizeRefusesWrongLengthAndForeignCharacters) {
  EXPECT_EQ(normalize_backup_code(""), "");
  EXPECT_EQ(normalize_backup_code("ABCDE1234"), "");    // 9
  EXPECT_EQ(normalize_backup_code("ABCDE123456"), "");  // 11
  EXPECT_EQ(normalize_backup_code("ABCDE-1234U"), "");  // U is not Crockford
  EXPECT_EQ(normalize_backup_code("ABCDE_12345"), "");
  EXPECT_EQ(normalize_backup_code("ABCDE\t12345"), "");
  EXPECT_EQ(normalize_backup_code("ABCDE12345\n"), "");
  EXPECT_EQ(normalize_backup_code("ABCDE1234\xC3\x89"), "");
  EXPECT_EQ(normalize_backup_code(std::string(100000, 'A')), "");
}

TEST(BackupCodesTest, MFA6_NormalizeAcceptsWhatUsersType) {
  EXPECT_EQ(normalize_backup_code("ABCDE12345"), "ABCDE12345");
  EXPECT_EQ(normalize_backup_code("abcde-12345"), "ABCDE12345");
  EXPECT_EQ(normalize_backup_code(" abcde 12345 "), "ABCDE12345");
  EXPECT_EQ(normalize_backup_code("a-b-c-d-e-1-2-3-4-5"), "ABCDE12345");
  EXPECT_EQ(normalize_backup_code("OoIiLl0011"), "0011110011");
}

TEST(BackupCodesTest, MFA6_TenDistinctCodesOfTenCrockfordCharacters) {
  const std::vector<std::string> codes = new_backup_codes();
  ASSERT_EQ(codes.size(), 10u);
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(), 10u);
  for (const std::string& code : codes) {
    EXPECT_TRUE(std::regex_match(code, std::regex("^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{10}$"))) << code;
    EXPECT_EQ(normalize_backup_code(code), code);
  }
  EXPECT_THROW(static_cast<void>(new_backup_codes(-1)), std::invalid_argument);
  EXPECT_TRUE(new_backup_codes(0).empty());
}

TEST(BackupCodesTest, MFA6_EveryCharacterIsUsedRoughlyEvenly) {
  // 2,000 codes = 20,000 characters over 32 symbols: 625 expected each. A
  // 5-sigma band (sigma ~ 24.6) catches a missing symbol or a gross bias
  // without flaking.
  std::vector<int> counts(32, 0);
  const std::string alphabet = kBackupCodeAlphabet;
  for (int batch = 0; batch < 2; ++batch) {
    for (const std::string& code : new_backup_codes(1000)) {
      for (char c : code) {
        ++counts[alphabet.find(c)];
      }
    }
  }
  for (size_t i = 0; i < counts.size(); ++i) {
    EXPECT_GT(counts[i], 625 - 125) << alphabet[i];
    EXPECT_LT(counts[i], 625 + 125) << alphabet[i];
  }
}

// --- QR code (MFA-1) -----------------------------------------------------------------

TEST(QrSvgTest, MFA1_RefusesWhatCannotBeEncoded) {
  EXPECT_THROW(static_cast<void>(qr_svg(std::string("ab\0cd", 5))), std::runtime_error);
  EXPECT_THROW(static_cast<void>(qr_svg(std::string(8000, 'x'))), std::runtime_error);
}

TEST(QrSvgTest, MFA1_SvgIsPlainRectAndPathWithPresentationAttributesOnly) {
  const std::string uri = otpauth_uri("ann@example.test", base32_encode(new_totp_secret()));
  const std::string svg = qr_svg(uri);
  EXPECT_THAT(svg, AllOf(StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "),
                         EndsWith("</svg>"), HasSubstr("shape-rendering=\"crispEdges\""),
                         HasSubstr("role=\"img\""), HasSubstr("aria-label=\"QR code\""),
                         HasSubstr("fill=\"#fff\"/>"), HasSubstr("<path d=\"M"),
                         HasSubstr("h1v1h-1z"), HasSubstr("\" fill=\"#000\"/>")));
  EXPECT_THAT(svg,
              AllOf(Not(HasSubstr("style")), Not(HasSubstr("data:")), Not(HasSubstr("<script")),
                    Not(HasSubstr("href")), Not(HasSubstr("url(")), Not(HasSubstr("otpauth"))));
  // Exactly four tags: <svg>, <rect/>, <path/>, </svg>.
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '<'), 4);
  // Every attribute is one of the expected presentation attributes.
  const std::set<std::string> allowed = {"xmlns", "viewBox", "width",      "height",         "d",
                                         "fill",  "role",    "aria-label", "shape-rendering"};
  const std::regex attribute(R"(\s([A-Za-z:-]+)=")");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), attribute);
       it != std::sregex_iterator(); ++it) {
    EXPECT_EQ(allowed.count((*it)[1].str()), 1u) << (*it)[1].str();
  }
  // The path is nothing but unit-height rectangles.
  const std::smatch d = [&] {
    std::smatch m;
    std::regex_search(svg, m, std::regex("d=\"([^\"]*)\""));
    return m;
  }();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_TRUE(std::regex_match(d[1].str(), std::regex("^(M[0-9]+,[0-9]+h([0-9]+)v1h-\\2z)+$")));
}

TEST(QrSvgTest, MFA1_DecodesBackToTheSameText) {
  // rsvg-convert (librsvg) renders SVG as browsers do. ImageMagick's own MSVG
  // renderer, which `convert` falls back to, strokes paths by default (unlike
  // SVG, whose default is stroke="none") and smears the modules together, so it
  // is no reference here.
  if (!have_tool("zbarimg") || !have_tool("rsvg-convert")) {
    GTEST_SKIP() << "zbarimg or rsvg-convert missing (apt-get install zbar-tools librsvg2-bin)";
  }
  std::string dir_template = (std::filesystem::temp_directory_path() / "totp-qr-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
  const std::filesystem::path dir = dir_template;
  for (const std::string& text :
       {otpauth_uri("ann@example.test", base32_encode(kRfcKey)),
        otpauth_uri("b.o+b@example.test", base32_encode(new_totp_secret()))}) {
    const std::filesystem::path svg_file = dir / "qr.svg";
    const std::filesystem::path png_file = dir / "qr.png";
    std::ofstream(svg_file) << qr_svg(text);
    const CommandResult converted =
        run("rsvg-convert -o '" + png_file.string() + "' '" + svg_file.string() + "' 2>&1");
    ASSERT_EQ(converted.status, 0) << converted.out;
    const CommandResult decoded = run("zbarimg --raw -q '" + png_file.string() + "' 2>/dev/null");
    EXPECT_EQ(decoded.status, 0) << decoded.out;
    EXPECT_EQ(trim(decoded.out), text);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace portcullis
