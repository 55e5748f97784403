// CRY-1, CRY-2, CRY-3, CRY-7: field encryption (AES-256-GCM, AAD-bound blobs,
// keyring rotation, fail-closed decryption).
#include "app/crypto/aead.h"

#include <array>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/crypto/random.h"
#include "app/log/integrity.h"

namespace portcullis {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Known answers from D. McGrew and J. Viega, "The Galois/Counter Mode of
// Operation (GCM)", revised January 2005 (the specification NIST cites in
// SP 800-38D), Appendix B "AES Test Vectors", test cases 13, 14 and 16: the
// AES-256 cases with a 96-bit IV. Test case 16 has 20 bytes of AAD and a
// 60-byte plaintext (partial final blocks on both inputs).
// https://csrc.nist.gov/CSRC/media/Projects/Block-Cipher-Techniques/documents/BCM/proposed-modes/gcm/gcm-revised-spec.pdf
// (The same values are in many independent suites; checked against OpenSSL via
// pyca/cryptography when this test was written.)
struct GcmVector {
  const char* name;
  const char* key;
  const char* iv;
  const char* aad;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
};

const std::array<GcmVector, 3> kGcmSpecVectors = {{
    {"test case 13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"test case 14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"test case 16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
}};

TEST(AeadTest, CRY1_TamperedKnownAnswerVectorDoesNotOpen) {
  const GcmVector& v = kGcmSpecVectors[2];
  std::string sealed = unhex(v.ciphertext) + unhex(v.tag);
  sealed[5] = static_cast<char>(sealed[5] ^ 0x01);
  EXPECT_EQ(aes256_gcm_open(unhex(v.key), unhex(v.iv), unhex(v.aad), sealed), std::nullopt);
  sealed[5] = static_cast<char>(sealed[5] ^ 0x01);
  EXPECT_EQ(aes256_gcm_open(unhex(v.key), unhex(v.iv), "other aad", sealed), std::nullopt);
  EXPECT_EQ(aes256_gcm_open(unhex(v.key), unhex(v.iv), unhex(v.aad), sealed.substr(0, 15)),
            std::nullopt);
}

TEST(AeadTest, CRY1_Aes256GcmMatchesTheGcmSpecificationVectors) {
  for (const GcmVector& v : kGcmSpecVectors) {
    SCOPED_TRACE(v.name);
    const std::string want = unhex(v.ciphertext) + unhex(v.tag);
    EXPECT_EQ(to_hex(aes256_gcm_seal(unhex(v.key), unhex(v.iv), unhex(v.aad), unhex(v.plaintext))),
              to_hex(want));
    EXPECT_EQ(aes256_gcm_open(unhex(v.key), unhex(v.iv), unhex(v.aad), want),
              std::optional<std::string>(unhex(v.plaintext)));
  }
}

TEST(AeadTest, CRY1_SealRefusesWrongKeyOrNonceSizes) {
  EXPECT_THROW(aes256_gcm_seal(std::string(16, 'k'), std::string(12, 'n'), "", "x"),
               std::invalid_argument);
  EXPECT_THROW(aes256_gcm_seal(std::string(32, 'k'), std::string(16, 'n'), "", "x"),
               std::invalid_argument);
}

class FieldCipherTest : public ::testing::Test {
 protected:
  const std::string key1_ = random_bytes(32);
  const std::string key2_ = random_bytes(32);
  const std::string tenant_ = uuid_v7();
  const std::string row_ = uuid_v7();
  const std::string aad_ = field_aad("memories", "content_enc", tenant_, row_);
  const FieldCipher cipher_{{{"k1", key1_}}, "k1"};
};

TEST_F(FieldCipherTest, CRY1_FlippingAnySingleBitOfTheBlobFailsClosed) {
  const std::string blob = cipher_.encrypt("the launch code is 0000", aad_);
  for (size_t i = 0; i < blob.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = blob;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_EQ(cipher_.decrypt(bad, aad_), std::nullopt) << "byte " << i << " bit " << bit;
    }
  }
  ASSERT_EQ(cipher_.decrypt(blob, aad_), "the launch code is 0000");
}

TEST_F(FieldCipherTest, CRY1_MalformedBlobsFailWithoutCrashing) {
  const std::string good = cipher_.encrypt("secret", aad_);
  const std::string body = good.substr(std::string("v1.k1.").size());
  std::vector<std::string> bad = {
      "",
      "v1",
      "v1.",
      "v1..",
      "v1..AAAA",
      "v1.k1",
      "v1.k1.",
      "v2.k1.xxx",
      "v2.k1." + body,
      "V1.k1." + body,
      "v1.k 1." + body,
      "v1.k1.." + body,
      "v1.k1." + body + "=",
      "v1.k1." + body + "\n",
      " v1.k1." + body,
      "v1.k1.!!!!",
      "v1.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  // decodes, but too short
      "v1." + std::string(33, 'k') + "." + body,      // key id too long
      "secret",                                       // plaintext, never encrypted
      std::string("v1.k1.\0", 7) + body,
  };
  // Every truncation of a valid blob.
  for (size_t n = 0; n < good.size(); ++n) {
    bad.push_back(good.substr(0, n));
  }
  // The standard alphabet where the blob has the URL-safe one.
  std::string standard = good;
  for (char& c : standard) {
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  if (standard != good) {
    bad.push_back(standard);
  }
  for (const std::string& blob : bad) {
    EXPECT_EQ(cipher_.decrypt(blob, aad_), std::nullopt) << "\"" << blob << "\"";
  }
}

TEST_F(FieldCipherTest, CRY1_NonCanonicalBase64IsRefused) {
  // 12 + 0 + 16 = 28 bytes: the last base64 character carries 4 unused bits.
  // Setting one of them decodes to the same bytes; the strict parser refuses
  // the text anyway, so no two texts stand for one blob.
  const std::string blob = cipher_.encrypt("", aad_);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const size_t last = blob.size() - 1;
  const size_t value = alphabet.find(blob[last]);
  ASSERT_EQ(value & 0x0f, 0u);
  std::string odd = blob;
  odd[last] = alphabet[value | 0x01];
  std::string raw;
  std::string odd_raw;
  ASSERT_TRUE(base64_decode(blob.substr(6), &raw));
  ASSERT_TRUE(base64_decode(odd.substr(6), &odd_raw));
  ASSERT_EQ(odd_raw, raw);  // a lenient decoder would accept it
  EXPECT_EQ(cipher_.decrypt(odd, aad_), std::nullopt);
  EXPECT_EQ(cipher_.decrypt(blob, aad_), "");
}

TEST_F(FieldCipherTest, CRY1_SamePlaintextEncryptedTwiceDiffers) {
  const std::string a = cipher_.encrypt("same text", aad_);
  const std::string b = cipher_.encrypt("same text", aad_);
  EXPECT_NE(a, b);
  // Different nonces, not only different tags.
  std::string raw_a;
  std::string raw_b;
  ASSERT_TRUE(base64_decode(a.substr(6), &raw_a));
  ASSERT_TRUE(base64_decode(b.substr(6), &raw_b));
  EXPECT_NE(raw_a.substr(0, 12), raw_b.substr(0, 12));
}

TEST_F(FieldCipherTest, CRY1_BlobHasTheDocumentedLayout) {
  const std::string plaintext = "twelve bytes";
  const std::string blob = cipher_.encrypt(plaintext, aad_);
  EXPECT_THAT(blob, StartsWith("v1.k1."));
  const std::string text = blob.substr(6);
  EXPECT_EQ(
      text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);  // URL-safe, no padding
  std::string raw;
  ASSERT_TRUE(base64_decode(text, &raw));
  ASSERT_EQ(raw.size(), 12 + plaintext.size() + 16);  // nonce ‖ ciphertext ‖ tag
  // The middle is GCM under key1 with that nonce: the low-level entry point
  // opens it.
  EXPECT_EQ(aes256_gcm_open(key1_, raw.substr(0, 12), aad_, raw.substr(12)), plaintext);
  EXPECT_THAT(blob, Not(HasSubstr(plaintext)));
}

TEST_F(FieldCipherTest, CRY1_RoundTripsAnyBytes) {
  const std::vector<std::string> texts = {"",
                                          "a",
                                          std::string("nul\0inside", 10),
                                          "ünïcødé ✓",
                                          random_bytes(1000),
                                          std::string(size_t{128} * 1024, 'm')};
  for (const std::string& t : texts) {
    std::optional<std::string> back = cipher_.decrypt(cipher_.encrypt(t, aad_), aad_);
    ASSERT_TRUE(back.has_value()) << t.size();
    EXPECT_EQ(*back, t);
  }
}

TEST_F(FieldCipherTest, CRY2_BlobMovedToAnotherRowFails) {
  const std::string blob = cipher_.encrypt("row one's text", aad_);
  EXPECT_EQ(cipher_.decrypt(blob, field_aad("memories", "content_enc", tenant_, uuid_v7())),
            std::nullopt);
}

TEST_F(FieldCipherTest, CRY2_BlobMovedToAnotherTenantFails) {
  const std::string blob = cipher_.encrypt("tenant a's text", aad_);
  EXPECT_EQ(cipher_.decrypt(blob, field_aad("memories", "content_enc", uuid_v7(), row_)),
            std::nullopt);
}

TEST_F(FieldCipherTest, CRY2_BlobMovedToAnotherColumnOrTableFails) {
  const std::string blob = cipher_.encrypt("JBSWY3DPEHPK3PXP", aad_);
  EXPECT_EQ(cipher_.decrypt(blob, field_aad("users", "totp_secret_enc", tenant_, row_)),
            std::nullopt);
  EXPECT_EQ(cipher_.decrypt(blob, field_aad("memories", "title", tenant_, row_)), std::nullopt);
  EXPECT_EQ(cipher_.decrypt(blob, ""), std::nullopt);
}

TEST(FieldAadTest, CRY2_LayoutIsTableColumnTenantRow) {
  EXPECT_EQ(field_aad("memories", "content_enc", "T-1", "R-2"), "memories.content_enc|t-1|r-2");
  // Upper- and lower-case spellings of one UUID name the same row
  // (PostgreSQL returns uuid columns in lower case).
  EXPECT_EQ(field_aad("users", "totp_secret_enc", "0190ABCD", "0190EF01"),
            field_aad("users", "totp_secret_enc", "0190abcd", "0190ef01"));
  EXPECT_THROW(field_aad("memories", "content_enc", "a|b", "c"), std::invalid_argument);
  EXPECT_THROW(field_aad("memories|x", "content_enc", "a", "c"), std::invalid_argument);
}

TEST_F(FieldCipherTest, CRY3_UnknownKeyIdFails) {
  const FieldCipher other({{"k2", key2_}}, "k2");
  const std::string blob = other.encrypt("under k2", aad_);
  EXPECT_EQ(cipher_.decrypt(blob, aad_), std::nullopt);
  // Renaming the key id in the blob does not help: the tag is under k2.
  std::string renamed = "v1.k1." + blob.substr(6);
  EXPECT_EQ(cipher_.decrypt(renamed, aad_), std::nullopt);
}

TEST_F(FieldCipherTest, CRY3_OldKeyStillDecryptsAfterRotationAndWritesUseThePrimary) {
  const std::string old_blob = cipher_.encrypt("written before the rotation", aad_);
  const FieldCipher rotated({{"k2", key2_}, {"k1", key1_}}, "k2");
  EXPECT_EQ(rotated.decrypt(old_blob, aad_), "written before the rotation");
  const std::string new_blob = rotated.encrypt("after", aad_);
  EXPECT_THAT(new_blob, StartsWith("v1.k2."));
  EXPECT_EQ(FieldCipher::key_id_of(new_blob), "k2");
  EXPECT_EQ(FieldCipher::key_id_of(old_blob), "k1");
  EXPECT_EQ(rotated.primary_id(), "k2");
  EXPECT_EQ(rotated.key_ids(), (std::vector<std::string>{"k2", "k1"}));
  // The old ring cannot read what the new primary wrote.
  EXPECT_EQ(cipher_.decrypt(new_blob, aad_), std::nullopt);
}

TEST(FieldCipherKeyringTest, CRY3_BadKeyringsAreRefused) {
  const std::string key = random_bytes(32);
  EXPECT_THROW(FieldCipher({}, "k1"), std::invalid_argument);
  EXPECT_THROW(FieldCipher({{"k1", key}}, "k2"), std::invalid_argument);
  EXPECT_THROW(FieldCipher({{"k1", key.substr(0, 16)}}, "k1"), std::invalid_argument);
  EXPECT_THROW(FieldCipher({{"k1", key}, {"k1", key}}, "k1"), std::invalid_argument);
  EXPECT_THROW(FieldCipher({{"k.1", key}}, "k.1"), std::invalid_argument);
  EXPECT_NO_THROW(FieldCipher({{"k_1-A", key}}, "k_1-A"));
}

TEST(FieldCipherKeyringTest, CRY3_KeyIdOfReadsOnlyTheHeader) {
  EXPECT_EQ(FieldCipher::key_id_of("v1.kold.anything"), "kold");
  EXPECT_EQ(FieldCipher::key_id_of("v1.kold."), "kold");
  EXPECT_EQ(FieldCipher::key_id_of("v1.kold"), std::nullopt);
  EXPECT_EQ(FieldCipher::key_id_of("v1..x"), std::nullopt);
  EXPECT_EQ(FieldCipher::key_id_of("v2.kold.x"), std::nullopt);
  EXPECT_EQ(FieldCipher::key_id_of(""), std::nullopt);
}

TEST_F(FieldCipherTest, CRY7_DecryptOrThrowLogsAnAlertWithoutTheBlobOrPlaintext) {
  const std::string blob = cipher_.encrypt("do not log me", aad_);
  EXPECT_EQ(decrypt_or_throw(cipher_, blob, aad_, "memories.content_enc " + row_), "do not log me");
  const std::string moved = field_aad("memories", "content_enc", tenant_, uuid_v7());
  ::testing::internal::CaptureStdout();
  std::string message;
  try {
    decrypt_or_throw(cipher_, blob, moved, "memories.content_enc " + row_);
  } catch (const DecryptionError& e) {
    message = e.what();
  }
  const std::string log = ::testing::internal::GetCapturedStdout();
  EXPECT_THAT(message, HasSubstr("memories.content_enc"));
  EXPECT_THAT(message, Not(HasSubstr(blob.substr(6, 20))));
  EXPECT_THAT(log, HasSubstr("crypto.decrypt_failed"));
  EXPECT_THAT(log, HasSubstr("\"critical\""));
  EXPECT_THAT(log, HasSubstr("auth_failed"));
  EXPECT_THAT(log, HasSubstr(row_));
  EXPECT_THAT(log, Not(HasSubstr(blob.substr(6, 20))));
  EXPECT_THAT(log, Not(HasSubstr("do not log me")));
  EXPECT_THROW(decrypt_or_throw(cipher_, "v1.gone." + blob.substr(6), aad_, "x"), DecryptionError);
  EXPECT_THROW(decrypt_or_throw(cipher_, "", aad_, "x"), DecryptionError);
}

}  // namespace
}  // namespace portcullis
