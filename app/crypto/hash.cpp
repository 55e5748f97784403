#include "app/crypto/hash.h"

#include <cryptopp/misc.h>
#include <cryptopp/sha.h>

#include "app/crypto/random.h"

namespace portcullis {

std::string sha256(const std::string& data) {
  CryptoPP::SHA256 h;
  std::string digest(CryptoPP::SHA256::DIGESTSIZE, '\0');
  h.CalculateDigest(reinterpret_cast<CryptoPP::byte*>(digest.data()),
                    reinterpret_cast<const CryptoPP::byte*>(data.data()), data.size());
  return digest;
}

std::string sha256_hex(const std::string& data) { return to_hex(sha256(data)); }

bool constant_time_equals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) {
    return false;
  }
  return CryptoPP::VerifyBufsEqual(reinterpret_cast<const CryptoPP::byte*>(a.data()),
                                   reinterpret_cast<const CryptoPP::byte*>(b.data()), a.size());
}

}  // namespace portcullis
