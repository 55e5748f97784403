#include "app/log/integrity.h"

#include <optional>
#include <utility>

#include "app/log/logger.h"

namespace portcullis {

std::string decrypt_or_throw(const FieldCipher& cipher,
                             const std::string& blob,
                             const std::string& aad,
                             const std::string& what_for) {
  std::optional<std::string> plaintext = cipher.decrypt(blob, aad);
  if (plaintext) {
    return std::move(*plaintext);
  }
  // An integrity alert: tampering, a row copied elsewhere, or a key removed
  // from the ring too early. The record names the field and the key, never
  // the blob or any plaintext.
  LogRecord record;
  record.event = "crypto.decrypt_failed";
  record.outcome = "failure";
  record.details = {{"what", what_for},
                    {"key_id", FieldCipher::key_id_of(blob).value_or("")},
                    {"reason", to_string(cipher.diagnose(blob))}};
  log_record(Level::kCritical, record);
  throw DecryptionError("field decryption failed: " + what_for);
}

}  // namespace portcullis
