// Transitional: the SOCI forms of three app/auth functions, unchanged, for
// the callers not yet on the store (handlers/mfa.cpp, handlers/members.cpp,
// app/cli/admin.cpp). They move to the Db&/Tx&/TenantTx& forms separately;
// then this file and the declarations marked "Transitional" in
// app/auth/sessions.h and app/auth/account.h are deleted.
#include <soci/soci.h>

#include "app/auth/account.h"
#include "app/auth/sessions.h"
#include "app/crypto/hash.h"
#include "app/store/role_column.h"

namespace portcullis {

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

std::optional<Account> find_account_by_email(soci::session& db, const std::string& email) {
  Account a;
  int mfa = 0;
  int disabled = 0;
  int require_mfa = 0;
  if (db.get_backend_name() == "postgresql") {
    // Before the tenant is known: the owner's SECURITY DEFINER lookup (RLS).
    db << "SELECT user_id, email, display_name, role, password_hash, "
          "CAST(mfa_enabled AS INTEGER), CAST(disabled AS INTEGER), tenant_id, tenant_name, "
          "CAST(tenant_require_mfa AS INTEGER) FROM portcullis_login_lookup(:v)",
        soci::use(email), soci::into(a.user_id), soci::into(a.email), soci::into(a.display_name),
        soci::into(a.role), soci::into(a.password_hash), soci::into(mfa), soci::into(disabled),
        soci::into(a.tenant_id), soci::into(a.tenant_name), soci::into(require_mfa);
  } else {
    db << "SELECT u.id, u.email, u.display_name, u.role, u.password_hash, "
          "CAST(u.mfa_enabled AS INTEGER), CAST(u.disabled AS INTEGER), t.id, t.name, "
          "CAST(t.require_mfa AS INTEGER) FROM users u JOIN tenants t ON t.id = u.tenant_id "
          "WHERE u.email = :v",
        soci::use(email), soci::into(a.user_id), soci::into(a.email), soci::into(a.display_name),
        soci::into(a.role), soci::into(a.password_hash), soci::into(mfa), soci::into(disabled),
        soci::into(a.tenant_id), soci::into(a.tenant_name), soci::into(require_mfa);
  }
  if (!db.got_data()) {
    return std::nullopt;
  }
  a.mfa_enabled = mfa != 0;
  a.disabled = disabled != 0;
  a.tenant_require_mfa = require_mfa != 0;
  return a;
}

}  // namespace portcullis
