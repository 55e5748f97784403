#include "app/crypto/aead.h"

#include <algorithm>

#include <cryptopp/aes.h>
#include <cryptopp/gcm.h>

#include "app/crypto/random.h"

namespace portcullis {
namespace {

const CryptoPP::byte* bytes_of(const std::string& s) {
  return reinterpret_cast<const CryptoPP::byte*>(s.data());
}

std::string lower_ascii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return s;
}

// Seals with raw key bytes. REQUIRES: sizes checked by the caller.
std::string seal(const CryptoPP::byte* key,
                 const std::string& nonce,
                 const std::string& aad,
                 const std::string& plaintext) {
  CryptoPP::GCM<CryptoPP::AES>::Encryption gcm;
  gcm.SetKeyWithIV(key, kAeadKeyBytes, bytes_of(nonce), nonce.size());
  std::string out(plaintext.size() + kAeadTagBytes, '\0');
  auto* dst = reinterpret_cast<CryptoPP::byte*>(out.data());
  gcm.EncryptAndAuthenticate(dst, dst + plaintext.size(), kAeadTagBytes, bytes_of(nonce),
                             static_cast<int>(nonce.size()), bytes_of(aad), aad.size(),
                             bytes_of(plaintext), plaintext.size());
  return out;
}

// Opens with raw key bytes; nullopt unless the tag verifies.
std::optional<std::string> open(const CryptoPP::byte* key,
                                const std::string& nonce,
                                const std::string& aad,
                                const CryptoPP::byte* sealed,
                                size_t sealed_size) {
  if (nonce.size() != kAeadNonceBytes || sealed_size < kAeadTagBytes) {
    return std::nullopt;
  }
  const size_t n = sealed_size - kAeadTagBytes;
  // DecryptAndVerify writes the candidate plaintext before it checks the tag:
  // keep it in a buffer that is wiped on every path and copy it out only
  // after the tag has verified (CRY-1: no plaintext on tag failure).
  CryptoPP::SecByteBlock buffer(n);
  CryptoPP::GCM<CryptoPP::AES>::Decryption gcm;
  gcm.SetKeyWithIV(key, kAeadKeyBytes, bytes_of(nonce), nonce.size());
  const bool ok =
      gcm.DecryptAndVerify(buffer.data(), sealed + n, kAeadTagBytes, bytes_of(nonce),
                           static_cast<int>(nonce.size()), bytes_of(aad), aad.size(), sealed, n);
  if (!ok) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(buffer.data()), n);
}

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

struct ParsedBlob {
  std::string key_id;
  std::string body;  // nonce ‖ ciphertext ‖ tag, raw
};

// Strict parse of "v1.<key_id>.<base64url>": the encoding must be canonical
// (re-encoding gives the same text), so no two texts name the same bytes and
// any change to the text is a change to what is authenticated or to the key.
std::optional<ParsedBlob> parse_blob(const std::string& blob) {
  std::optional<std::string> id = FieldCipher::key_id_of(blob);
  if (!id) {
    return std::nullopt;
  }
  const std::string text = blob.substr(std::string(kFieldBlobVersion).size() + id->size() + 2);
  if (!std::all_of(text.begin(), text.end(), is_base64url_char)) {
    return std::nullopt;
  }
  ParsedBlob parsed;
  parsed.key_id = std::move(*id);
  if (!base64_decode(text, &parsed.body) || base64url_encode(parsed.body) != text ||
      parsed.body.size() < kAeadNonceBytes + kAeadTagBytes) {
    return std::nullopt;
  }
  return parsed;
}

}  // namespace

std::string field_aad(const std::string& table,
                      const std::string& column,
                      const std::string& tenant_id,
                      const std::string& row_id) {
  for (const std::string* part : {&table, &column, &tenant_id, &row_id}) {
    if (part->find('|') != std::string::npos) {
      throw std::invalid_argument("field_aad: a part contains '|'");
    }
  }
  return table + "." + column + "|" + lower_ascii(tenant_id) + "|" + lower_ascii(row_id);
}

std::string aes256_gcm_seal(const std::string& key,
                            const std::string& nonce,
                            const std::string& aad,
                            const std::string& plaintext) {
  if (key.size() != kAeadKeyBytes || nonce.size() != kAeadNonceBytes) {
    throw std::invalid_argument("aes256_gcm_seal: key must be 32 bytes and nonce 12 bytes");
  }
  return seal(bytes_of(key), nonce, aad, plaintext);
}

std::optional<std::string> aes256_gcm_open(const std::string& key,
                                           const std::string& nonce,
                                           const std::string& aad,
                                           const std::string& sealed) {
  if (key.size() != kAeadKeyBytes) {
    return std::nullopt;
  }
  return open(bytes_of(key), nonce, aad, bytes_of(sealed), sealed.size());
}

bool valid_key_id(const std::string& id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

FieldCipher::FieldCipher(const std::vector<DataKey>& keys, const std::string& primary_id)
    : primary_id_(primary_id) {
  for (const DataKey& k : keys) {
    if (!valid_key_id(k.id) || k.key.size() != kAeadKeyBytes || has_key(k.id)) {
      throw std::invalid_argument(
          "FieldCipher: every data key needs a valid, unique id and exactly 32 bytes");
    }
    keys_.emplace_back(k.id, CryptoPP::SecByteBlock(bytes_of(k.key), k.key.size()));
  }
  if (!has_key(primary_id_)) {
    throw std::invalid_argument("FieldCipher: the primary key id is not in the keyring");
  }
}

const CryptoPP::SecByteBlock* FieldCipher::find(const std::string& id) const {
  for (const auto& [key_id, key] : keys_) {
    if (key_id == id) {
      return &key;
    }
  }
  return nullptr;
}

std::vector<std::string> FieldCipher::key_ids() const {
  std::vector<std::string> ids;
  ids.reserve(keys_.size());
  for (const auto& entry : keys_) {
    ids.push_back(entry.first);
  }
  return ids;
}

std::string FieldCipher::encrypt(const std::string& plaintext, const std::string& aad) const {
  const CryptoPP::SecByteBlock* key = find(primary_id_);
  // CRY-1: a fresh random 96-bit nonce for every encryption, never a counter
  // kept in memory (several worker processes share each key).
  std::string body = random_bytes(kAeadNonceBytes);
  body += seal(key->data(), body, aad, plaintext);
  return std::string(kFieldBlobVersion) + "." + primary_id_ + "." + base64url_encode(body);
}

std::optional<std::string> FieldCipher::decrypt(const std::string& blob,
                                                const std::string& aad) const {
  std::optional<ParsedBlob> parsed = parse_blob(blob);
  if (!parsed) {
    return std::nullopt;
  }
  const CryptoPP::SecByteBlock* key = find(parsed->key_id);
  if (key == nullptr) {
    return std::nullopt;
  }
  const std::string nonce = parsed->body.substr(0, kAeadNonceBytes);
  std::optional<std::string> plaintext =
      open(key->data(), nonce, aad, bytes_of(parsed->body) + kAeadNonceBytes,
           parsed->body.size() - kAeadNonceBytes);
  return plaintext;
}

std::optional<std::string> FieldCipher::key_id_of(const std::string& blob) {
  const std::string prefix = std::string(kFieldBlobVersion) + ".";
  if (blob.compare(0, prefix.size(), prefix) != 0) {
    return std::nullopt;
  }
  const size_t dot = blob.find('.', prefix.size());
  if (dot == std::string::npos) {
    return std::nullopt;
  }
  std::string id = blob.substr(prefix.size(), dot - prefix.size());
  if (!valid_key_id(id)) {
    return std::nullopt;
  }
  return id;
}

DecryptFailure FieldCipher::diagnose(const std::string& blob) const {
  if (!parse_blob(blob)) {
    return DecryptFailure::kMalformed;
  }
  if (!has_key(key_id_of(blob).value_or(""))) {
    return DecryptFailure::kUnknownKey;
  }
  return DecryptFailure::kAuthFailed;
}

const char* to_string(DecryptFailure failure) {
  switch (failure) {
    case DecryptFailure::kMalformed:
      return "malformed";
    case DecryptFailure::kUnknownKey:
      return "unknown_key";
    case DecryptFailure::kAuthFailed:
      return "auth_failed";
  }
  return "auth_failed";
}

}  // namespace portcullis
