#include "app/crypto/keys.h"

#include <cryptopp/hkdf.h>
#include <cryptopp/hmac.h>
#include <cryptopp/sha.h>

namespace portcullis {

std::string derive_key(const std::string& root, const std::string& purpose) {
  CryptoPP::HKDF<CryptoPP::SHA256> hkdf;
  std::string info = "portcullis/v1/" + purpose;
  std::string out(32, '\0');
  hkdf.DeriveKey(reinterpret_cast<CryptoPP::byte*>(out.data()), out.size(),
                 reinterpret_cast<const CryptoPP::byte*>(root.data()), root.size(), nullptr, 0,
                 reinterpret_cast<const CryptoPP::byte*>(info.data()), info.size());
  return out;
}

std::string hmac_sha256(const std::string& key, const std::string& message) {
  CryptoPP::HMAC<CryptoPP::SHA256> mac(reinterpret_cast<const CryptoPP::byte*>(key.data()),
                                       key.size());
  std::string out(CryptoPP::HMAC<CryptoPP::SHA256>::DIGESTSIZE, '\0');
  mac.CalculateDigest(reinterpret_cast<CryptoPP::byte*>(out.data()),
                      reinterpret_cast<const CryptoPP::byte*>(message.data()), message.size());
  return out;
}

}  // namespace portcullis
