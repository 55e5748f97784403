// "Sign-in from a new device" (the groundwork: decided and recorded here,
// shown in the sessions list and the audit trail; the notification mail is
// not sent from here).
//
// A device is the browser family + OS family (app/auth/user_agent.h) + the
// client's network: the /24 of an IPv4 address, the /48 of an IPv6 one
// (the address nginx gives as REMOTE_ADDR; an IPv4-mapped IPv6 address
// counts as IPv4). It is remembered only as HMAC-SHA-256 under the worker's
// device key (WorkerKeys::device_key) over the user id and those three parts,
// in known_devices, for store::devices::kKnownDeviceLifetimeMs after its last
// use. Neither the address nor the User-Agent is stored there or logged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "app/db/tenant_tx.h"

namespace portcullis {

// "203.0.113.0/24", "2001:db8:1::/48"; "unknown" for anything that is not an
// IP address (never throws).
std::string client_network(std::string_view ip);

// Hex HMAC-SHA-256(device_key, user_id, browser, os, network), the fields
// length-prefixed so no two inputs share a message.
std::string device_hash(const std::string& device_key,
                        const std::string& user_id,
                        std::string_view browser,
                        std::string_view os,
                        const std::string& network);

struct DeviceSignIn {
  std::string browser;  // family, e.g. "Firefox"
  std::string os;       // family, e.g. "Linux"
  // True when the user signed in before (a known device of any age, or
  // another non-pending session) and this device is not among those used in
  // the last 90 days. The first sign-in of an account is never new.
  bool new_device = false;
};

// The device of a completed sign-in (a full or enrolment-only session; an
// MFA-pending one is not a sign-in yet): decides new_device, then remembers
// the device (inserted, or its last_seen_at set to now), in `tx`.
// REQUIRES: the user's writers serialised in `tx` (create_session and
// complete_mfa_session do it), so two sign-ins of one user cannot both be
// "first".
DeviceSignIn record_device_sign_in(TenantTx& tx,
                                   const std::string& device_key,
                                   const std::string& user_id,
                                   const std::string& session_id,
                                   const std::string& ip,
                                   std::string_view user_agent,
                                   int64_t now);

}  // namespace portcullis
