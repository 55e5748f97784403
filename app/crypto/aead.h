// Field encryption at rest (DESIGN §7, CRY-1/CRY-2/CRY-3): AES-256-GCM
// (Crypto++ GCM<AES>) over single database columns (memories.content_enc,
// users.totp_secret_enc, …).
//
// Contract
//   CRY-1  Every encrypt() draws a fresh 96-bit nonce from the OS CSPRNG
//          (random_bytes) and appends a 128-bit tag. The stored blob is text:
//              v1.<key_id>.<base64url(nonce ‖ ciphertext ‖ tag)>
//          (URL-safe alphabet, no padding, canonical encoding only). The same
//          plaintext encrypted twice gives two different blobs. decrypt()
//          checks the tag (DecryptAndVerify) before it hands anything back:
//          on any failure it returns nullopt and no plaintext, never a part.
//   CRY-2  The associated data binds the ciphertext to its place:
//              field_aad(table, column, tenant_id, row_id)
//                = "<table>.<column>|<tenant_id>|<row id>"
//          so a blob copied to another column, row or tenant fails to decrypt.
//   CRY-3  A FieldCipher holds a keyring (PORTCULLIS_DATA_KEYS) and a primary
//          key id (PORTCULLIS_DATA_KEY_PRIMARY). Writes use the primary; reads
//          pick the key named in the blob, so rows written under an older key
//          stay readable after a rotation until `portcullis keys reencrypt`
//          has moved them to the primary. With random 96-bit nonces a key
//          must not seal more than 2^32 values (SP 800-38D §8.3): rotate with
//          `portcullis keys generate` well before that.
//          Deviation to note: CRY-3's bar also asks for per-tenant DEKs
//          derived by HKDF; this keyring uses the configured 32-byte keys
//          directly (DESIGN §7). The blob carries key_id, so a later derived
//          scheme can arrive as new key ids or as "v2" without a flag day.
//
// decrypt() never throws on bad input (malformed text, unknown key id, wrong
// AAD, a flipped bit): those are all nullopt, and diagnose() tells which.
// Callers that cannot continue without the plaintext call decrypt_or_throw()
// (app/log/integrity.h), which logs an integrity alert (never the blob or the
// plaintext) and throws DecryptionError; the request's error mapper turns
// that into a generic 500 (CRY-7). Crypto itself logs nothing.
//
// Thread safety: a FieldCipher is immutable after construction; its const
// methods may be called from several threads at once.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <cryptopp/secblock.h>

#include "app/crypto/data_key.h"

namespace portcullis {

inline constexpr size_t kAeadKeyBytes = 32;    // AES-256
inline constexpr size_t kAeadNonceBytes = 12;  // 96-bit nonce (SP 800-38D §8.2.2)
inline constexpr size_t kAeadTagBytes = 16;    // 128-bit tag
inline constexpr const char* kFieldBlobVersion = "v1";

// "<table>.<column>|<tenant_id>|<row id>". The ids are lower-cased (ASCII):
// they are UUIDs, and PostgreSQL hands uuid columns back in lower case
// whatever case was inserted, so the AAD must not depend on it.
// REQUIRES: no argument contains '|' (throws std::invalid_argument), so two
// different places can never produce the same AAD.
std::string field_aad(const std::string& table,
                      const std::string& column,
                      const std::string& tenant_id,
                      const std::string& row_id);

// Low-level AES-256-GCM with a 128-bit tag, exposed for known-answer tests.
// Application code uses FieldCipher. REQUIRES: key is 32 bytes and nonce 12
// bytes (throws std::invalid_argument otherwise). Returns ciphertext ‖ tag.
std::string aes256_gcm_seal(const std::string& key,
                            const std::string& nonce,
                            const std::string& aad,
                            const std::string& plaintext);
// The inverse; nullopt when the tag does not verify (or the sizes are wrong).
[[nodiscard]] std::optional<std::string> aes256_gcm_open(const std::string& key,
                                                         const std::string& nonce,
                                                         const std::string& aad,
                                                         const std::string& sealed);

// True for a key id PORTCULLIS_DATA_KEYS accepts: 1–32 of [A-Za-z0-9_-].
bool valid_key_id(const std::string& id);

// Why a blob did not open (FieldCipher::diagnose).
enum class DecryptFailure { kMalformed, kUnknownKey, kAuthFailed };
// "malformed", "unknown_key", "auth_failed": the reason an alert names.
const char* to_string(DecryptFailure failure);

class FieldCipher {
 public:
  // REQUIRES: at least one key; every id valid_key_id() and unique; every key
  // 32 bytes; primary_id names one of them. Throws std::invalid_argument
  // otherwise (load_config already enforces all of this for Config).
  FieldCipher(const std::vector<DataKey>& keys, const std::string& primary_id);

  // Seals under the primary key with a fresh random nonce.
  // Throws std::runtime_error only if the OS CSPRNG fails.
  std::string encrypt(const std::string& plaintext, const std::string& aad) const;
  // Opens with the key the blob names. nullopt on a malformed blob, an
  // unknown key id or a tag mismatch (wrong AAD, tampering); never throws on
  // bad input, never returns partial plaintext.
  [[nodiscard]] std::optional<std::string> decrypt(const std::string& blob,
                                                   const std::string& aad) const;

  // Why decrypt(blob, …) failed: a malformed blob, a key id not in the ring,
  // or a tag that does not verify (wrong AAD, tampering). REQUIRES: decrypt()
  // returned nullopt for this blob.
  [[nodiscard]] DecryptFailure diagnose(const std::string& blob) const;

  // The key id a blob claims ("v1.<id>." prefix with a valid id), without
  // decoding or authenticating the rest: for reports and key rotation only.
  [[nodiscard]] static std::optional<std::string> key_id_of(const std::string& blob);

  const std::string& primary_id() const { return primary_id_; }
  bool has_key(const std::string& id) const { return find(id) != nullptr; }
  // The ring's ids in configuration order.
  std::vector<std::string> key_ids() const;

 private:
  const CryptoPP::SecByteBlock* find(const std::string& id) const;

  // SecByteBlock wipes the key material when the cipher is destroyed.
  std::vector<std::pair<std::string, CryptoPP::SecByteBlock>> keys_;
  std::string primary_id_;
};

// Thrown by decrypt_or_throw() (app/log/integrity.h). Its message names the purpose only, never
// the blob or plaintext; the client sees a generic 500.
class DecryptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace portcullis
