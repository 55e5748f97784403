// Integrity alerts: a field that must decrypt and does not (CRY-7). The
// alert is a log record, so this sits in log, above crypto; crypto reports
// only why a blob did not open (FieldCipher::diagnose).
#pragma once

#include <string>

#include "app/crypto/aead.h"

namespace portcullis {

// cipher.decrypt(), or: log a critical "crypto.decrypt_failed" record
// (details: `what_for`, the claimed key id, and why: malformed, unknown_key
// or auth_failed; never the blob or plaintext) and throw DecryptionError.
// `what_for` names the field and row, e.g. "memories.content_enc <id>".
std::string decrypt_or_throw(const FieldCipher& cipher,
                             const std::string& blob,
                             const std::string& aad,
                             const std::string& what_for);

}  // namespace portcullis
