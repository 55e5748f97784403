#include "app/auth/account.h"

#include <algorithm>
#include <cctype>

#include "app/auth/passwords.h"
#include "app/store/role_column.h"
#include "app/crypto/hash.h"
#include "app/db/time.h"
#include "app/text/text.h"

namespace portcullis {
namespace {

constexpr const char* kAccountColumns =
    "u.id, u.email, u.display_name, u.role, u.password_hash, CAST(u.mfa_enabled AS INTEGER), "
    "CAST(u.disabled AS INTEGER), t.id, t.name, CAST(t.require_mfa AS INTEGER)";

bool is_postgres(soci::session& db) { return db.get_backend_name() == "postgresql"; }

// `select` is one of the fixed statements below (never built from input).
std::optional<Account> fetch(soci::session& db,
                             const std::string& select,
                             const std::string& value) {
  Account a;
  int mfa = 0;
  int disabled = 0;
  int require_mfa = 0;
  db << select, soci::use(value), soci::into(a.user_id), soci::into(a.email),
      soci::into(a.display_name), soci::into(a.role), soci::into(a.password_hash), soci::into(mfa),
      soci::into(disabled), soci::into(a.tenant_id), soci::into(a.tenant_name),
      soci::into(require_mfa);
  if (!db.got_data()) {
    return std::nullopt;
  }
  a.mfa_enabled = mfa != 0;
  a.disabled = disabled != 0;
  a.tenant_require_mfa = require_mfa != 0;
  return a;
}

rapidjson::Value str(const std::string& s, rapidjson::Document::AllocatorType& alloc) {
  return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), alloc);
}

}  // namespace

std::string normalize_email(const std::string& email) {
  std::string out = trim_ascii(email);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool valid_email(const std::string& email) {
  if (email.size() < 3 || email.size() > 254 || has_control_chars(email)) {
    return false;
  }
  size_t at = email.find('@');
  if (at == std::string::npos || at == 0 || at > 64 ||
      email.find('@', at + 1) != std::string::npos) {
    return false;
  }
  for (char c : email) {
    if (c == ' ' || c == '\t' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') {
      return false;
    }
  }
  std::string domain = email.substr(at + 1);
  size_t dot = domain.find('.');
  return dot != std::string::npos && dot > 0 && domain.back() != '.' &&
         domain.find("..") == std::string::npos;
}

std::optional<Account> find_account_by_email(soci::session& db, const std::string& email) {
  if (is_postgres(db)) {
    // Before the tenant is known: the owner's SECURITY DEFINER lookup (RLS).
    return fetch(db,
                 "SELECT user_id, email, display_name, role, password_hash, "
                 "CAST(mfa_enabled AS INTEGER), CAST(disabled AS INTEGER), tenant_id, tenant_name, "
                 "CAST(tenant_require_mfa AS INTEGER) FROM portcullis_login_lookup(:v)",
                 email);
  }
  return fetch(db,
               std::string("SELECT ") + kAccountColumns +
                   " FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = :v",
               email);
}

std::optional<Account> find_account_by_id(TenantTx& tx, const std::string& user_id) {
  return fetch(tx.sql(),
               std::string("SELECT ") + kAccountColumns +
                   " FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.id = :v",
               user_id);
}

bool email_taken(soci::session& db, const std::string& email) {
  int taken = 0;
  if (is_postgres(db)) {
    db << "SELECT CAST(portcullis_email_taken(:e) AS INTEGER)", soci::use(email), soci::into(taken);
  } else {
    db << "SELECT COUNT(*) FROM users WHERE email = :e", soci::use(email), soci::into(taken);
  }
  return taken > 0;
}

std::optional<SessionAccount> find_session_with_account(soci::session& db,
                                                        const std::string& token) {
  std::string token_hash = sha256_hex(token);
  SessionAccount out;
  Session& s = out.session;
  Account& a = out.account;
  std::string created, last_seen, expires, reauth, mfa_at, ip, ua;
  soci::indicator reauth_ind = soci::i_null, mfa_ind = soci::i_null, ip_ind = soci::i_null,
                  ua_ind = soci::i_null;
  int remember = 0, mfa_enabled = 0, disabled = 0, require_mfa = 0;
  soci::statement st(db);
  st.exchange(soci::into(s.id));
  st.exchange(soci::into(s.user_id));
  st.exchange(soci::into(s.tenant_id));
  st.exchange(soci::into(s.auth_state));
  st.exchange(soci::into(s.csrf_token));
  st.exchange(soci::into(remember));
  st.exchange(soci::into(created));
  st.exchange(soci::into(last_seen));
  st.exchange(soci::into(expires));
  st.exchange(soci::into(reauth, reauth_ind));
  st.exchange(soci::into(mfa_at, mfa_ind));
  st.exchange(soci::into(ip, ip_ind));
  st.exchange(soci::into(ua, ua_ind));
  st.exchange(soci::into(a.email));
  st.exchange(soci::into(a.display_name));
  st.exchange(soci::into(a.role));
  st.exchange(soci::into(mfa_enabled));
  st.exchange(soci::into(disabled));
  st.exchange(soci::into(a.tenant_name));
  st.exchange(soci::into(require_mfa));
  st.exchange(soci::use(token_hash));
  st.alloc();
  if (is_postgres(db)) {
    st.prepare(
        "SELECT id, user_id, tenant_id, auth_state, csrf_token, remember_me, created_at, "
        "last_seen_at, expires_at, reauthenticated_at, mfa_verified_at, ip, user_agent, email, "
        "display_name, role, mfa_enabled, disabled, tenant_name, tenant_require_mfa FROM "
        "portcullis_authenticate(:th)");
  } else {
    st.prepare(
        "SELECT s.id, s.user_id, s.tenant_id, s.auth_state, s.csrf_token, "
        "CAST(s.remember_me AS INTEGER), s.created_at, s.last_seen_at, s.expires_at, "
        "s.reauthenticated_at, s.mfa_verified_at, s.ip, s.user_agent, u.email, u.display_name, "
        "u.role, CAST(u.mfa_enabled AS INTEGER), CAST(u.disabled AS INTEGER), t.name, "
        "CAST(t.require_mfa AS INTEGER) FROM sessions s JOIN users u ON u.id = s.user_id AND "
        "u.tenant_id = s.tenant_id JOIN tenants t ON t.id = s.tenant_id WHERE s.token_hash = :th "
        "AND s.revoked_at IS NULL");
  }
  st.define_and_bind();
  st.execute(true);
  if (!st.got_data()) {
    return std::nullopt;
  }
  s.remember_me = remember != 0;
  s.created_at = parse_time_ms(created).value_or(0);
  s.last_seen_at = parse_time_ms(last_seen).value_or(0);
  s.expires_at = parse_time_ms(expires).value_or(0);
  if (reauth_ind == soci::i_ok) {
    s.reauthenticated_at = parse_time_ms(reauth);
  }
  if (mfa_ind == soci::i_ok) {
    s.mfa_verified_at = parse_time_ms(mfa_at);
  }
  s.ip = ip_ind == soci::i_ok ? ip : "";
  s.user_agent = ua_ind == soci::i_ok ? ua : "";
  a.user_id = s.user_id;
  a.tenant_id = s.tenant_id;
  a.mfa_enabled = mfa_enabled != 0;
  a.disabled = disabled != 0;
  a.tenant_require_mfa = require_mfa != 0;
  return out;
}

rapidjson::Value user_json(const Account& a, rapidjson::Document::AllocatorType& alloc) {
  rapidjson::Value u(rapidjson::kObjectType);
  u.AddMember("id", str(a.user_id, alloc), alloc);
  u.AddMember("email", str(a.email, alloc), alloc);
  u.AddMember("display_name", str(a.display_name, alloc), alloc);
  u.AddMember("role", rapidjson::StringRef(to_string(a.role)), alloc);
  u.AddMember("mfa_enabled", a.mfa_enabled, alloc);
  return u;
}

rapidjson::Value tenant_json(const Account& a, rapidjson::Document::AllocatorType& alloc) {
  rapidjson::Value t(rapidjson::kObjectType);
  t.AddMember("id", str(a.tenant_id, alloc), alloc);
  t.AddMember("name", str(a.tenant_name, alloc), alloc);
  return t;
}

rapidjson::Document login_shape(const Account& a, const Session& s) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& alloc = d.GetAllocator();
  d.AddMember("user", user_json(a, alloc), alloc);
  d.AddMember("tenant", tenant_json(a, alloc), alloc);
  rapidjson::Value session(rapidjson::kObjectType);
  session.AddMember("id", str(s.id, alloc), alloc);
  session.AddMember("expires_at", str(format_time_ms(s.expires_at), alloc), alloc);
  session.AddMember("remember_me", s.remember_me, alloc);
  d.AddMember("session", session, alloc);
  d.AddMember("csrf_token", str(s.csrf_token, alloc), alloc);
  return d;
}

size_t min_password_code_points(bool tenant_requires_mfa) {
  // 63B §3.1.1.2: 15 for a single factor, 8 where MFA is enforced.
  return tenant_requires_mfa ? kMinPasswordCodePointsWithMfa : kMinPasswordCodePoints;
}

PasswordProblem check_account_password(const std::string& password,
                                       const std::vector<std::string>& context_words,
                                       bool tenant_requires_mfa) {
  return check_password_policy(password, context_words,
                               min_password_code_points(tenant_requires_mfa));
}

}  // namespace portcullis
