// A field-encryption key of the keyring (PORTCULLIS_DATA_KEYS, DESIGN §7).
// Declared by crypto, which owns the keyring (FieldCipher, app/crypto/aead.h);
// config only parses the variables into it.
#pragma once

#include <string>

namespace portcullis {

struct DataKey {
  std::string id;   // valid_key_id(): 1–32 of [A-Za-z0-9_-]
  std::string key;  // 32 raw bytes
};

}  // namespace portcullis
