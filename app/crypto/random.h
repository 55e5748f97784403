// Randomness and encodings. Every random value comes from the OS CSPRNG
// (getrandom(2)); nothing here uses rand() or a seeded PRNG (CRY-5).
#pragma once

#include <cstddef>
#include <string>

namespace portcullis {

// n bytes from getrandom(2). Throws std::runtime_error if the kernel fails.
std::string random_bytes(size_t n);
// 2n lower-case hex characters of n random bytes.
std::string random_hex(size_t n);

std::string to_hex(const std::string& bytes);
std::string base64_encode(const std::string& bytes);
// Standard or URL-safe alphabet, padding optional. Returns false on bad input.
bool base64_decode(const std::string& text, std::string* out);
std::string base64url_encode(const std::string& bytes);

// A UUIDv7 (RFC 9562): 48-bit Unix ms timestamp, version 7, random rest.
// Time-ordered so keyset pagination can order by id.
std::string uuid_v7();

// A canonical UUID string (lower-case hex, 8-4-4-4-12)? Ids are checked
// with this before they reach SQL, so a malformed id is "not found" rather
// than a database type error.
bool is_uuid(const std::string& s);

}  // namespace portcullis
