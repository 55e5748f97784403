// Purpose keys: every keyed function (cursor MACs, backup-code hashes, …)
// uses its own key, derived from PORTCULLIS_SECRET_KEY with HKDF-SHA-256
// (RFC 5869), info = "portcullis/v1/<purpose>". A key never serves two
// purposes.
#pragma once

#include <string>

namespace portcullis {

// 32-byte key for `purpose` (e.g. "cursor"). REQUIRES: root.size() >= 32.
std::string derive_key(const std::string& root, const std::string& purpose);
// Raw 32-byte HMAC-SHA-256.
std::string hmac_sha256(const std::string& key, const std::string& message);

}  // namespace portcullis
