#include "app/crypto/worker_keys.h"

#include <stdexcept>

#include <cryptopp/misc.h>

#include "app/crypto/blind_index.h"
#include "app/crypto/keys.h"

namespace portcullis {
namespace {

constexpr size_t kMinSecretKeyBytes = 32;

// The root secret is checked before the first derivation (derive_key itself
// does not check its REQUIRES).
const std::string& checked_secret(const std::string& secret_key) {
  if (secret_key.size() < kMinSecretKeyBytes) {
    throw std::invalid_argument("WorkerKeys: the secret key must have at least 32 bytes");
  }
  return secret_key;
}

void wipe(std::string& key) {
  CryptoPP::SecureWipeBuffer(reinterpret_cast<CryptoPP::byte*>(key.data()), key.size());
}

}  // namespace

// The purpose labels must never change: stored backup-code hashes, cursors in
// clients' hands, counted login subjects and known devices were all made
// under them.
WorkerKeys::WorkerKeys(const std::string& secret_key,
                       const std::vector<DataKey>& data_keys,
                       const std::string& primary_id)
    : field_cipher_(data_keys, primary_id),
      cursor_key_(derive_key(checked_secret(secret_key), "cursor")),
      backup_code_key_(derive_key(secret_key, "backup-code")),
      login_subject_key_(derive_key(secret_key, "login-subject")),
      device_key_(derive_key(secret_key, "device")),
      recovery_token_key_(derive_key(secret_key, "recovery-token")),
      search_index_key_(derive_key(secret_key, "search-index")) {}

std::string WorkerKeys::search_key(const std::string& tenant_id) const {
  return search_tenant_key(search_index_key_, tenant_id);
}

WorkerKeys::~WorkerKeys() {
  wipe(cursor_key_);
  wipe(backup_code_key_);
  wipe(login_subject_key_);
  wipe(device_key_);
  wipe(recovery_token_key_);
  wipe(search_index_key_);
}

}  // namespace portcullis
