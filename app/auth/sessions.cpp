#include "app/auth/sessions.h"

#include <algorithm>

#include "app/crypto/hash.h"
#include "app/crypto/random.h"
#include "app/db/time.h"
#include "app/db/tx.h"

namespace portcullis {
namespace {

constexpr const char* kSessionColumns =
    "id, user_id, tenant_id, auth_state, csrf_token, CAST(remember_me AS INTEGER), created_at, "
    "last_seen_at, expires_at, reauthenticated_at, mfa_verified_at, ip, user_agent";

// Binds the columns of kSessionColumns and converts them after a fetch.
struct SessionRow {
  std::string id, user_id, tenant_id, auth_state, csrf_token, created_at, last_seen_at, expires_at,
      reauthenticated_at, mfa_verified_at, ip, user_agent;
  int remember_me = 0;
  soci::indicator reauth_ind = soci::i_null, mfa_ind = soci::i_null, ip_ind = soci::i_null,
                  ua_ind = soci::i_null;

  void bind(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(user_id));
    st.exchange(soci::into(tenant_id));
    st.exchange(soci::into(auth_state));
    st.exchange(soci::into(csrf_token));
    st.exchange(soci::into(remember_me));
    st.exchange(soci::into(created_at));
    st.exchange(soci::into(last_seen_at));
    st.exchange(soci::into(expires_at));
    st.exchange(soci::into(reauthenticated_at, reauth_ind));
    st.exchange(soci::into(mfa_verified_at, mfa_ind));
    st.exchange(soci::into(ip, ip_ind));
    st.exchange(soci::into(user_agent, ua_ind));
  }

  Session to_session() const {
    Session s;
    s.id = id;
    s.user_id = user_id;
    s.tenant_id = tenant_id;
    s.auth_state = auth_state;
    s.csrf_token = csrf_token;
    s.remember_me = remember_me != 0;
    s.created_at = parse_time_ms(created_at).value_or(0);
    s.last_seen_at = parse_time_ms(last_seen_at).value_or(0);
    s.expires_at = parse_time_ms(expires_at).value_or(0);
    if (reauth_ind == soci::i_ok) {
      s.reauthenticated_at = parse_time_ms(reauthenticated_at);
    }
    if (mfa_ind == soci::i_ok) {
      s.mfa_verified_at = parse_time_ms(mfa_verified_at);
    }
    s.ip = ip_ind == soci::i_ok ? ip : "";
    s.user_agent = ua_ind == soci::i_ok ? user_agent : "";
    return s;
  }
};

// Which of a user's sessions a cap counts: the MFA-pending ones, or all others.
enum class CapKind { kPending, kOthers };

// Keeps the user's `keep` newest live sessions of a kind and deletes the rest.
// `spare_id` (may be empty) is neither counted nor deleted.
void evict_beyond(soci::session& db,
                  const std::string& user_id,
                  const std::string& spare_id,
                  CapKind kind,
                  int keep) {
  std::vector<std::string> ids(static_cast<size_t>(std::max(keep, 0)) + 50);
  std::string pending = "mfa_pending";
  // A nil UUID when nothing is spared keeps one statement shape (uuid on PostgreSQL).
  std::string spare = spare_id.empty() ? "00000000-0000-0000-0000-000000000000" : spare_id;
  std::string now = format_time_ms(now_ms());
  // One of two fixed operators, never input.
  const char* op = kind == CapKind::kPending ? "=" : "<>";
  db << std::string("SELECT id FROM sessions WHERE user_id = :u AND auth_state ") + op +
            " :p AND id <> :s AND expires_at > :n ORDER BY id DESC",
      soci::use(user_id), soci::use(pending), soci::use(spare), soci::use(now), soci::into(ids);
  for (size_t i = static_cast<size_t>(std::max(keep, 0)); i < ids.size(); ++i) {
    db << "DELETE FROM sessions WHERE id = :id", soci::use(ids[i]);
  }
}

}  // namespace

std::string new_token() { return base64url_encode(random_bytes(32)); }

IssuedSession create_session(soci::session& db,
                             const Config& config,
                             const std::string& user_id,
                             const std::string& tenant_id,
                             const std::string& auth_state,
                             bool remember_me,
                             const SessionRequestInfo& info) {
  IssuedSession out;
  out.token = new_token();
  Session& s = out.session;
  s.id = uuid_v7();
  s.user_id = user_id;
  s.tenant_id = tenant_id;
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
  s.user_agent = info.user_agent.substr(0, 512);

  serialise_writers(db, WriterScope::kUser, user_id);  // the caps below
  std::string token_hash = sha256_hex(out.token);
  std::string created = format_time_ms(s.created_at);
  std::string expires = format_time_ms(s.expires_at);
  std::string reauth = s.reauthenticated_at ? created : "";
  soci::indicator reauth_ind = s.reauthenticated_at ? soci::i_ok : soci::i_null;
  int remember = s.remember_me ? 1 : 0;
  db << "INSERT INTO sessions (id, token_hash, user_id, tenant_id, auth_state, csrf_token, "
        "remember_me, created_at, last_seen_at, expires_at, reauthenticated_at, ip, user_agent) "
        "VALUES (:id, :th, :u, :t, :st, :csrf, :rm, :c, :c2, :e, :ra, :ip, :ua)",
      soci::use(s.id), soci::use(token_hash), soci::use(s.user_id), soci::use(s.tenant_id),
      soci::use(s.auth_state), soci::use(s.csrf_token), soci::use(remember), soci::use(created),
      soci::use(created), soci::use(expires), soci::use(reauth, reauth_ind), soci::use(s.ip),
      soci::use(s.user_agent);

  if (pending) {
    evict_beyond(db, user_id, "", CapKind::kPending, kMaxPendingSessionsPerUser);
  } else {
    evict_beyond(db, user_id, "", CapKind::kOthers, config.max_sessions_per_user);
  }
  return out;
}

std::optional<Session> find_session_by_token(soci::session& db, const std::string& token) {
  std::string token_hash = sha256_hex(token);
  SessionRow row;
  soci::statement st(db);
  row.bind(st);
  st.exchange(soci::use(token_hash));
  st.alloc();
  st.prepare(std::string("SELECT ") + kSessionColumns +
             " FROM sessions WHERE token_hash = :th AND revoked_at IS NULL");
  st.define_and_bind();
  st.execute(true);
  if (!st.got_data()) {
    return std::nullopt;
  }
  return row.to_session();
}

IssuedSession rotate_session(soci::session& db,
                             const Session& session,
                             const std::string& new_state) {
  IssuedSession out;
  out.token = new_token();
  out.session = session;
  out.session.csrf_token = new_token();
  if (!new_state.empty()) {
    out.session.auth_state = new_state;
  }
  std::string token_hash = sha256_hex(out.token);
  db << "UPDATE sessions SET token_hash = :th, csrf_token = :c, auth_state = :s WHERE id = :id",
      soci::use(token_hash), soci::use(out.session.csrf_token), soci::use(out.session.auth_state),
      soci::use(session.id);
  return out;
}

IssuedSession complete_mfa_session(soci::session& db,
                                   const Config& config,
                                   const Session& pending,
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
  serialise_writers(db, WriterScope::kUser, s.user_id);  // the caps below
  std::string token_hash = sha256_hex(out.token);
  std::string expires = format_time_ms(s.expires_at);
  std::string n1 = format_time_ms(now), n2 = n1, n3 = n1;
  db << "UPDATE sessions SET token_hash = :th, csrf_token = :c, auth_state = :s, expires_at = :e, "
        "mfa_verified_at = :m, reauthenticated_at = :r, last_seen_at = :l WHERE id = :id",
      soci::use(token_hash), soci::use(s.csrf_token), soci::use(s.auth_state), soci::use(expires),
      soci::use(n1), soci::use(n2), soci::use(n3), soci::use(s.id);
  // Now a full session: it counts toward the cap, and keeps its place.
  evict_beyond(db, s.user_id, s.id, CapKind::kOthers, config.max_sessions_per_user - 1);
  return out;
}

void touch_session(soci::session& db, const std::string& session_id, int64_t now) {
  std::string t = format_time_ms(now);
  db << "UPDATE sessions SET last_seen_at = :t WHERE id = :id", soci::use(t), soci::use(session_id);
}

void mark_reauthenticated(soci::session& db, const std::string& session_id, int64_t now) {
  std::string t = format_time_ms(now);
  db << "UPDATE sessions SET reauthenticated_at = :t WHERE id = :id", soci::use(t),
      soci::use(session_id);
}

bool delete_user_session(soci::session& db, const std::string& user_id, const std::string& id) {
  soci::statement st = (db.prepare << "DELETE FROM sessions WHERE id = :id AND user_id = :u",
                        soci::use(id), soci::use(user_id));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

long delete_user_sessions(soci::session& db,
                          const std::string& user_id,
                          const std::string& keep_id) {
  if (keep_id.empty()) {
    soci::statement st =
        (db.prepare << "DELETE FROM sessions WHERE user_id = :u", soci::use(user_id));
    st.execute(true);
    return static_cast<long>(st.get_affected_rows());
  }
  soci::statement st = (db.prepare << "DELETE FROM sessions WHERE user_id = :u AND id <> :k",
                        soci::use(user_id), soci::use(keep_id));
  st.execute(true);
  return static_cast<long>(st.get_affected_rows());
}

std::vector<Session> list_user_sessions(soci::session& db,
                                        const std::string& user_id,
                                        int64_t now,
                                        const std::string& before_id,
                                        int limit) {
  std::vector<Session> out;
  std::string now_text = format_time_ms(now);
  // A sentinel above every UUID keeps one statement shape for page 1 and the rest.
  std::string before = before_id.empty() ? "ffffffff-ffff-ffff-ffff-ffffffffffff" : before_id;
  SessionRow row;
  soci::statement st(db);
  row.bind(st);
  st.exchange(soci::use(user_id));
  st.exchange(soci::use(now_text));
  st.exchange(soci::use(before));
  st.exchange(soci::use(limit));
  st.alloc();
  st.prepare(std::string("SELECT ") + kSessionColumns +
             " FROM sessions WHERE user_id = :u AND revoked_at IS NULL AND "
             "expires_at > :now AND auth_state = 'full' AND id < :before "
             "ORDER BY id DESC LIMIT :lim");
  st.define_and_bind();
  st.execute();
  while (st.fetch()) {
    out.push_back(row.to_session());
  }
  return out;
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
