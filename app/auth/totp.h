// TOTP (RFC 6238) over HOTP (RFC 4226), base32 (RFC 4648), the otpauth URI and
// backup codes (DESIGN §7; SECURITY-BAR MFA-1, MFA-2, MFA-3, MFA-6).
//
// TOTP parameters are fixed by MFA-1: HMAC-SHA-1, 6 digits, X = 30 s, T0 = 0,
// a 20-byte (160-bit) secret. verify_totp accepts the steps T-1, T and T+1 and
// nothing further (MFA-2). It does not remember anything: replay protection
// (MFA-3) is the caller's, by advancing the stored step atomically:
//   UPDATE users SET totp_last_step = :s WHERE id = :u AND totp_last_step < :s
// and accepting the code only when that statement changed one row.
//
// Keys, codes and backup codes are secrets: never log them (MFA-4).
//
// Thread safety: every function may be called from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace portcullis {

// RFC 4648 §6 base32 (A-Z, 2-7), upper case, without '=' padding.
std::string base32_encode(const std::string& bytes);
// Inverse of base32_encode. Case-insensitive; spaces and '=' are ignored
// anywhere. nullopt on any other character outside the alphabet, or on a
// length no encoder can produce (1, 3 or 6 characters past a multiple of 8).
// Bits left over after the last whole byte are dropped.
std::optional<std::string> base32_decode(const std::string& text);

// RFC 4226 HOTP: HMAC-SHA-1(key, counter as 8 big-endian bytes), dynamic
// truncation, modulo 10^digits, zero-padded to `digits` characters.
// REQUIRES: 1 <= digits <= 9 (else throws std::invalid_argument).
std::string hotp(const std::string& key, uint64_t counter, int digits = 6);

// The RFC 6238 time step floor(unix_seconds / period) with T0 = 0 (floor also
// for times before 1970). REQUIRES: period > 0 (else throws std::invalid_argument).
int64_t totp_step(int64_t unix_seconds, int period = 30);

struct TotpMatch {
  bool ok = false;
  int64_t step = 0;  // the step the code matched; meaningful only when ok
};

// Checks a 6-digit code against the steps T - window .. T + window, where
// T = totp_step(unix_seconds). `window` is capped at 1 and floored at 0: MFA-2
// allows one step of skew and no more. `unix_seconds` must come from the
// server's clock, never from the client (MFA-2).
//
// A code that is not exactly 6 ASCII digits is not ok (checked before any
// HMAC). Otherwise every candidate step is computed and compared in constant
// time, without early exit, so timing does not reveal which step matched. If
// several steps give the same code, the latest is returned, so a replay check
// on it also covers the earlier ones. Negative steps never match.
[[nodiscard]] TotpMatch verify_totp(const std::string& key,
                                    const std::string& code,
                                    int64_t unix_seconds,
                                    int window = 1);

// A fresh 20-byte TOTP secret (raw bytes) from the OS CSPRNG (MFA-1).
// Throws std::runtime_error if getrandom fails.
std::string new_totp_secret();

// otpauth://totp/portcullis:<email>?secret=<b32>&issuer=portcullis&algorithm=SHA1&digits=6&period=30
// The e-mail is percent-encoded: every byte outside RFC 3986's unreserved set
// (A-Z a-z 0-9 - . _ ~) becomes %XX with upper-case hex ('@' -> %40).
// `base32_secret` is inserted as given (it is expected to be base32_encode's output).
std::string otpauth_uri(const std::string& email, const std::string& base32_secret);

// Crockford base32 alphabet used by backup codes.
inline constexpr char kBackupCodeAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
inline constexpr size_t kBackupCodeLength = 10;  // 10 x 5 bits = 50 bits (MFA-6)

// `n` distinct backup codes of kBackupCodeLength characters of
// kBackupCodeAlphabet, each character uniform and independent (one CSPRNG byte
// masked to 5 bits: 256 is a multiple of 32, so there is no modulo bias).
// REQUIRES: 0 <= n <= 1000 (else throws std::invalid_argument).
// Throws std::runtime_error if getrandom fails.
std::vector<std::string> new_backup_codes(int n = 10);

// The canonical form of a backup code as a user may type it: upper-cased,
// spaces and hyphens dropped, I and L read as 1, O read as 0 (Crockford's
// decoding rules). Returns "" when any other character is outside the
// alphabet (U included) or the result is not kBackupCodeLength characters.
std::string normalize_backup_code(const std::string& typed);

}  // namespace portcullis
