// The keys a worker process holds for its whole life (DESIGN §2, §7): built
// once when the worker starts, from PORTCULLIS_SECRET_KEY and the data
// keyring, rather than again for every request that needs one.
//  - field_cipher():      the FieldCipher over PORTCULLIS_DATA_KEYS with
//                         PORTCULLIS_DATA_KEY_PRIMARY (app/crypto/aead.h);
//  - cursor_key():        derive_key(secret, "cursor"), the MAC key of the
//                         pagination cursors (app/http/pagination.h);
//  - backup_code_key():   derive_key(secret, "backup-code"), under which
//                         backup codes are stored hashed (app/auth/mfa.h);
//  - login_subject_key(): derive_key(secret, "login-subject"), the HMAC that
//                         stands for a typed e-mail that is not an address
//                         (throttle_subject, app/auth/throttle.h);
//  - device_key():        derive_key(secret, "device"), under which a login's
//                         device (browser, OS, network) is remembered
//                         (known_devices, app/auth/device.h);
//  - recovery_token_key(): derive_key(secret, "recovery-token"), under which
//                         mailed one-time tokens are stored hashed
//                         (user_tokens, app/auth/recovery.h);
//  - search_index_key():  derive_key(secret, "search-index"), the root of the
//                         per-tenant blind-index keys (search_key(tenant),
//                         app/crypto/blind_index.h).
// The purposes are the labels these keys were always derived with, so a cursor
// handed out, a backup code stored or a subject counted before stays valid.
//
// Crypto does not read the configuration (tests/layering.sh): the caller
// passes the raw values, the worker those of its Config (app/server/worker.cpp).
// A SIGHUP reload forks a new generation of workers, each of which builds its
// own WorkerKeys from the re-read configuration; a running worker's keys never
// change.
//
// The keys are secrets: never log, print or send them. They are wiped when the
// object is destroyed. Thread safety: immutable after construction; its const
// methods may be called from several threads at once.
#pragma once

#include <string>
#include <vector>

#include "app/crypto/aead.h"
#include "app/crypto/data_key.h"

namespace portcullis {

class WorkerKeys {
 public:
  // REQUIRES: secret_key has at least 32 bytes, and data_keys / primary_id
  // meet FieldCipher's requirements. Throws std::invalid_argument otherwise
  // (load_config already enforces both for Config).
  WorkerKeys(const std::string& secret_key,
             const std::vector<DataKey>& data_keys,
             const std::string& primary_id);
  ~WorkerKeys();

  // One per process, handed out by reference: never copied, never moved.
  WorkerKeys(const WorkerKeys&) = delete;
  WorkerKeys& operator=(const WorkerKeys&) = delete;

  const FieldCipher& field_cipher() const { return field_cipher_; }
  // 32-byte HMAC-SHA-256 keys, one per purpose.
  const std::string& cursor_key() const { return cursor_key_; }
  const std::string& backup_code_key() const { return backup_code_key_; }
  const std::string& login_subject_key() const { return login_subject_key_; }
  const std::string& device_key() const { return device_key_; }
  const std::string& recovery_token_key() const { return recovery_token_key_; }
  const std::string& search_index_key() const { return search_index_key_; }
  // The tenant's blind-index key (search_tenant_key of search_index_key()):
  // one HKDF, derived when asked (cheap next to the request it serves).
  std::string search_key(const std::string& tenant_id) const;

 private:
  FieldCipher field_cipher_;
  std::string cursor_key_;
  std::string backup_code_key_;
  std::string login_subject_key_;
  std::string device_key_;
  std::string recovery_token_key_;
  std::string search_index_key_;
};

}  // namespace portcullis
