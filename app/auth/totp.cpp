#include "app/auth/totp.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <unordered_set>
#include <utility>

#include <cryptopp/hmac.h>
#include <cryptopp/misc.h>
#include <cryptopp/secblock.h>
#include <cryptopp/sha.h>

#include "app/crypto/random.h"

namespace portcullis {

namespace {

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr int kTotpDigits = 6;       // MFA-1
constexpr int kTotpPeriod = 30;      // MFA-1, seconds
constexpr int kMaxWindow = 1;        // MFA-2: T-1..T+1, never T±2
constexpr size_t kSecretBytes = 20;  // MFA-1: 160 bits, RFC 4226 R6 recommendation

// -1 for a character outside the base32 alphabet (either case).
int base32_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a';
  }
  if (c >= '2' && c <= '7') {
    return c - '2' + 26;
  }
  return -1;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string percent_encode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (is_unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

bool is_six_ascii_digits(const std::string& code) {
  return code.size() == kTotpDigits &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string base32_encode(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kBase32Alphabet[(buffer >> bits) & 31]);
    }
  }
  if (bits > 0) {
    out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
  }
  return out;
}

std::optional<std::string> base32_decode(const std::string& text) {
  std::string out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  size_t symbols = 0;
  for (char c : text) {
    if (c == ' ' || c == '=') {
      continue;
    }
    int v = base32_value(c);
    if (v < 0) {
      return std::nullopt;
    }
    ++symbols;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  // 8 symbols carry 5 bytes; 1, 3 or 6 leftover symbols cannot end a whole byte.
  switch (symbols % 8) {
    case 1:
    case 3:
    case 6:
      return std::nullopt;
    default:
      break;
  }
  return out;
}

std::string hotp(const std::string& key, uint64_t counter, int digits) {
  if (digits < 1 || digits > 9) {
    throw std::invalid_argument("hotp: digits must be 1..9");
  }
  std::array<CryptoPP::byte, 8> message{};
  for (int i = 7; i >= 0; --i) {
    message[static_cast<size_t>(i)] = static_cast<CryptoPP::byte>(counter & 0xff);
    counter >>= 8;
  }
  CryptoPP::HMAC<CryptoPP::SHA1> mac(reinterpret_cast<const CryptoPP::byte*>(key.data()),
                                     key.size());
  CryptoPP::SecByteBlock digest(CryptoPP::HMAC<CryptoPP::SHA1>::DIGESTSIZE);
  mac.CalculateDigest(digest.data(), message.data(), message.size());

  // RFC 4226 §5.3 dynamic truncation.
  const size_t offset = digest[digest.size() - 1] & 0x0f;
  const uint32_t binary = ((static_cast<uint32_t>(digest[offset]) & 0x7f) << 24) |
                          (static_cast<uint32_t>(digest[offset + 1]) << 16) |
                          (static_cast<uint32_t>(digest[offset + 2]) << 8) |
                          static_cast<uint32_t>(digest[offset + 3]);
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) {
    modulus *= 10;
  }
  uint32_t value = binary % modulus;
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out;
}

int64_t totp_step(int64_t unix_seconds, int period) {
  if (period <= 0) {
    throw std::invalid_argument("totp_step: period must be positive");
  }
  int64_t step = unix_seconds / period;
  if (unix_seconds % period != 0 && unix_seconds < 0) {
    --step;  // floor, not truncation toward zero
  }
  return step;
}

TotpMatch verify_totp(const std::string& key,
                      const std::string& code,
                      int64_t unix_seconds,
                      int window) {
  // The format is not secret: refusing it early leaks nothing about the key.
  if (!is_six_ascii_digits(code)) {
    return {false, 0};
  }
  // MFA-2: one step of clock skew each way, never more, whatever the caller asks.
  window = std::clamp(window, 0, kMaxWindow);
  const int64_t now = totp_step(unix_seconds, kTotpPeriod);

  // Every candidate is computed and compared, with no early exit and no branch
  // on the comparison, so timing reveals neither whether nor where it matched.
  // A later match overrides an earlier one: the caller's replay check then
  // covers every step this code is valid for.
  uint64_t matched = 0;
  uint64_t best = 0;
  for (int64_t step = now - window; step <= now + window; ++step) {
    if (step < 0) {
      continue;  // before T0; depends on the clock only
    }
    const std::string expected = hotp(key, static_cast<uint64_t>(step), kTotpDigits);
    const uint64_t equal =
        CryptoPP::VerifyBufsEqual(reinterpret_cast<const CryptoPP::byte*>(expected.data()),
                                  reinterpret_cast<const CryptoPP::byte*>(code.data()),
                                  expected.size())
            ? 1
            : 0;
    const uint64_t mask = 0 - equal;
    best = (best & ~mask) | (static_cast<uint64_t>(step) & mask);
    matched |= equal;
  }
  return {matched != 0, static_cast<int64_t>(best)};
}

std::string new_totp_secret() { return random_bytes(kSecretBytes); }

std::string otpauth_uri(const std::string& email, const std::string& base32_secret) {
  return "otpauth://totp/portcullis:" + percent_encode(email) + "?secret=" + base32_secret +
         "&issuer=portcullis&algorithm=SHA1&digits=6&period=30";
}

std::vector<std::string> new_backup_codes(int n) {
  if (n < 0 || n > 1000) {
    throw std::invalid_argument("new_backup_codes: n must be 0..1000");
  }
  std::vector<std::string> codes;
  codes.reserve(static_cast<size_t>(n));
  std::unordered_set<std::string> seen;
  while (codes.size() < static_cast<size_t>(n)) {
    // One byte per character masked to 5 bits: 256 = 8 x 32, so each of the 32
    // characters is equally likely (no modulo bias).
    const std::string raw = random_bytes(kBackupCodeLength);
    std::string code(kBackupCodeLength, '0');
    for (size_t i = 0; i < kBackupCodeLength; ++i) {
      code[i] = kBackupCodeAlphabet[static_cast<unsigned char>(raw[i]) & 31];
    }
    // A repeat (2^-50 per pair) would make one code count twice; draw again.
    if (seen.insert(code).second) {
      codes.push_back(std::move(code));
    }
  }
  return codes;
}

std::string normalize_backup_code(const std::string& typed) {
  std::string out;
  out.reserve(kBackupCodeLength);
  for (char c : typed) {
    if (c == ' ' || c == '-') {
      continue;
    }
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
    if (c == 'I' || c == 'L') {
      c = '1';
    } else if (c == 'O') {
      c = '0';
    }
    // What is left must be in the alphabet; U, punctuation and non-ASCII are refused.
    const bool digit = c >= '0' && c <= '9';
    const bool letter = c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U';
    if (!digit && !letter) {
      return "";
    }
    if (out.size() == kBackupCodeLength) {
      return "";  // too long; stop before copying an unbounded input
    }
    out.push_back(c);
  }
  return out.size() == kBackupCodeLength ? out : "";
}

}  // namespace portcullis
