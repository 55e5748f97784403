#include "app/auth/sessions.h"

#include <algorithm>

#include "app/auth/device.h"
#include "app/auth/user_agent.h"
#include "app/crypto/hash.h"
#include "app/crypto/random.h"
#include "app/db/time.h"
#include "app/db/tx.h"

namespace portcullis {
namespace {

// Keeps the user's `keep` newest live sessions of a kind and deletes the rest
// (at most 50 beyond `keep` per call). `spare_id` (may be empty) is neither
// counted nor deleted. REQUIRES: the user's writers serialised (the caller
// holds serialise_writers(…, kUser, user_id)).
void evict_beyond(Tx& tx,
                  const std::string& user_id,
                  const std::string& spare_id,
                  store::sessions::Kind kind,
                  int keep) {
  keep = std::max(keep, 0);
  std::vector<std::string> ids =
      store::sessions::live_ids(tx, user_id, kind, spare_id, now_ms(), keep + 50);
  for (size_t i = static_cast<size_t>(keep); i < ids.size(); ++i) {
    // Signed out by a sign-in elsewhere: a tombstone tells its cookie so.
    store::sessions::revoke(tx, ids[i], kRevokedSessionLimit, now_ms());
  }
}

}  // namespace

std::string new_token() { return base64url_encode(random_bytes(32)); }

IssuedSession create_session(TenantTx& tx,
                             const Config& config,
                             const WorkerKeys& keys,
                             const std::string& user_id,
                             const std::string& auth_state,
                             bool remember_me,
                             const SessionRequestInfo& info) {
  IssuedSession out;
  out.token = new_token();
  Session& s = out.session;
  s.id = uuid_v7();
  s.user_id = user_id;
  s.tenant_id = tx.tenant_id();
  s.auth_state = auth_state;
  s.csrf_token = new_token();
  // A pending session keeps the choice until MFA completion applies it.
  s.remember_me = remember_me && (auth_state == "full" || auth_state == "mfa_pending");
  s.created_at = now_ms();
  s.last_seen_at = s.created_at;
  bool pending = auth_state == "mfa_pending";
  int64_t lifetime = pending         ? config.session_mfa_pending_seconds
                     : s.remember_me ? config.session_remember_seconds
                                     : config.session_absolute_seconds;
  s.expires_at = s.created_at + lifetime * 1000;
  if (auth_state == "full" || auth_state == "enrollment_required") {
    s.reauthenticated_at = s.created_at;
  }
  s.ip = info.ip;
  s.user_agent = info.user_agent.substr(0, kUserAgentScanBytes);

  // The caps below: the user's row, seen through the tenant's binding.
  serialise_writers(tx.tx(), WriterScope::kUser, user_id);
  if (pending) {
    // A password alone does not make a device known: that waits for MFA.
    UserAgentFamilies families = parse_user_agent(s.user_agent);
    s.browser = std::string(families.browser);
    s.os = std::string(families.os);
  } else {
    DeviceSignIn device = record_device_sign_in(tx, keys.device_key(), user_id, s.id, info.ip,
                                                info.user_agent, s.created_at);
    s.browser = device.browser;
    s.os = device.os;
    s.new_device = device.new_device;
  }
  store::sessions::insert(tx, s, sha256_hex(out.token));
  if (pending) {
    evict_beyond(tx.tx(), user_id, "", store::sessions::Kind::kPending, kMaxPendingSessionsPerUser);
  } else {
    evict_beyond(tx.tx(), user_id, "", store::sessions::Kind::kOthers,
                 config.max_sessions_per_user);
  }
  return out;
}

std::optional<Session> find_session_by_token(Tx& tx, const std::string& token) {
  return store::sessions::find_by_token_hash(tx, sha256_hex(token));
}

IssuedSession rotate_session(Tx& tx, const Session& session, const std::string& new_state) {
  IssuedSession out;
  out.token = new_token();
  out.session = session;
  out.session.csrf_token = new_token();
  if (!new_state.empty()) {
    out.session.auth_state = new_state;
  }
  store::sessions::rotate(tx, out.session, sha256_hex(out.token));
  return out;
}

IssuedSession complete_mfa_session(TenantTx& tx,
                                   const Config& config,
                                   const WorkerKeys& keys,
                                   const Session& pending,
                                   const SessionRequestInfo& info,
                                   int64_t now) {
  IssuedSession out;
  out.token = new_token();
  out.session = pending;
  Session& s = out.session;
  s.csrf_token = new_token();
  s.auth_state = "full";
  int64_t lifetime =
      s.remember_me ? config.session_remember_seconds : config.session_absolute_seconds;
  s.expires_at = s.created_at + lifetime * 1000;
  s.mfa_verified_at = now;
  s.reauthenticated_at = now;
  s.last_seen_at = now;
  // The cap below: the user's row, seen through the tenant's binding.
  serialise_writers(tx.tx(), WriterScope::kUser, s.user_id);
  DeviceSignIn device =
      record_device_sign_in(tx, keys.device_key(), s.user_id, s.id, info.ip, info.user_agent, now);
  s.browser = device.browser;
  s.os = device.os;
  s.new_device = device.new_device;
  store::sessions::complete_mfa(tx.tx(), s, sha256_hex(out.token));
  // Now a full session: it counts toward the cap, and keeps its place.
  evict_beyond(tx.tx(), s.user_id, s.id, store::sessions::Kind::kOthers,
               config.max_sessions_per_user - 1);
  return out;
}

void touch_session(Db& db, const std::string& session_id, int64_t now) {
  store::sessions::touch(db, session_id, now);
}

void mark_reauthenticated(Tx& tx, const std::string& session_id, int64_t now) {
  store::sessions::set_reauthenticated(tx, session_id, now);
}

bool delete_user_session(Tx& tx,
                         const std::string& user_id,
                         const std::string& id,
                         const char* reason) {
  return store::sessions::revoke_for_user(tx, user_id, id, reason, now_ms());
}

long delete_user_sessions(Tx& tx,
                          const std::string& user_id,
                          const std::string& keep_id,
                          const char* reason) {
  return static_cast<long>(
      store::sessions::revoke_all_for_user(tx, user_id, keep_id, reason, now_ms()));
}

std::optional<std::string> revoked_session_reason(Db& db, const std::string& token, int64_t now) {
  return store::sessions::revoked_reason(db, sha256_hex(token), now - kRevokedSessionRetentionMs);
}

std::vector<Session> list_user_sessions(
    Db& db, const std::string& user_id, int64_t now, const std::string& before_id, int limit) {
  return store::sessions::page_for_user(db, user_id, now, before_id, limit);
}

std::string session_cookie(const IssuedSession& issued) {
  std::string c = std::string(kSessionCookie) + "=" + issued.token +
                  "; Path=/; Secure; HttpOnly; SameSite=Strict";
  if (issued.session.remember_me && issued.session.auth_state != "mfa_pending") {
    int64_t left = std::max<int64_t>((issued.session.expires_at - now_ms()) / 1000, 0);
    c += "; Max-Age=" + std::to_string(left);
  }
  return c;
}

std::string clear_session_cookie() {
  return std::string(kSessionCookie) + "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0";
}

}  // namespace portcullis
