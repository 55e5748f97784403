#include "app/auth/device.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "app/auth/user_agent.h"
#include "app/crypto/keys.h"
#include "app/crypto/random.h"
#include "app/store/devices.h"

namespace portcullis {
namespace {

// Length-prefixed field: "<bytes>:<value>;".
void append_field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += ';';
}

}  // namespace

std::string client_network(std::string_view ip) {
  // inet_pton wants a NUL-terminated string; an address is at most 45 chars
  // (INET6_ADDRSTRLEN - 1); a NUL inside would cut it short.
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN || ip.find('\0') != std::string_view::npos) {
    return "unknown";
  }
  const std::string text(ip);
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    char out[32];
    std::snprintf(out, sizeof out, "%u.%u.%u.0/24", bytes[0], bytes[1], bytes[2]);
    return out;
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) {
    return "unknown";
  }
  // ::ffff:a.b.c.d is an IPv4 client.
  static constexpr std::array<unsigned char, 12> kMapped = {0, 0, 0, 0, 0,    0,
                                                            0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped.begin(), kMapped.end(), bytes.begin())) {
    char out[32];
    std::snprintf(out, sizeof out, "%u.%u.%u.0/24", bytes[12], bytes[13], bytes[14]);
    return out;
  }
  char out[32];
  std::snprintf(out, sizeof out, "%x:%x:%x::/48", (bytes[0] << 8) | bytes[1],
                (bytes[2] << 8) | bytes[3], (bytes[4] << 8) | bytes[5]);
  return out;
}

std::string device_hash(const std::string& device_key,
                        const std::string& user_id,
                        std::string_view browser,
                        std::string_view os,
                        const std::string& network) {
  std::string message = "device/v1;";
  append_field(message, user_id);
  append_field(message, browser);
  append_field(message, os);
  append_field(message, network);
  return to_hex(hmac_sha256(device_key, message));
}

DeviceSignIn record_device_sign_in(TenantTx& tx,
                                   const std::string& device_key,
                                   const std::string& user_id,
                                   const std::string& session_id,
                                   const std::string& ip,
                                   std::string_view user_agent,
                                   int64_t now) {
  const UserAgentFamilies families = parse_user_agent(user_agent);
  DeviceSignIn out;
  out.browser = std::string(families.browser);
  out.os = std::string(families.os);
  const std::string hash =
      device_hash(device_key, user_id, families.browser, families.os, client_network(ip));
  const store::devices::DeviceHistory seen = store::devices::history(
      tx, user_id, hash, session_id, now - store::devices::kKnownDeviceLifetimeMs);
  out.new_device = seen.has_history && !seen.known;
  store::devices::remember(tx, user_id, hash, now);
  return out;
}

}  // namespace portcullis
