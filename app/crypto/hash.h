// Hashes (Crypto++). Constant-time comparison for every secret.
#pragma once

#include <string>

namespace portcullis {

// Raw 32-byte SHA-256 digest.
std::string sha256(const std::string& data);
std::string sha256_hex(const std::string& data);
// True when a and b are equal; time depends only on the lengths.
bool constant_time_equals(const std::string& a, const std::string& b);

}  // namespace portcullis
