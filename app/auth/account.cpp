#include "app/auth/account.h"

#include <algorithm>
#include <cctype>

#include "app/auth/passwords.h"
#include "app/crypto/hash.h"
#include "app/db/time.h"
#include "app/text/limits.h"
#include "app/text/text.h"

namespace portcullis {
namespace {

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
  if (email.size() < 3 || email.size() > kMaxEmailBytes || has_control_chars(email)) {
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

std::optional<Account> find_account_by_email(Db& db, const std::string& email) {
  return store::accounts::find_by_email(db, email);
}

std::optional<Account> find_account_by_id(TenantTx& tx, const std::string& user_id) {
  return store::accounts::find_by_id(tx, user_id);
}

bool email_taken(Db& db, const std::string& email) {
  return store::accounts::email_taken(db, email);
}

std::optional<SessionAccount> find_session_with_account(Db& db, const std::string& token) {
  return store::accounts::find_by_session_token_hash(db, sha256_hex(token));
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
