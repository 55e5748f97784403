#include "app/cli/admin.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>

#include "app/auth/account.h"
#include "app/auth/mfa.h"
#include "app/auth/notify.h"
#include "app/auth/passwords.h"
#include "app/auth/sessions.h"
#include "app/auth/throttle.h"
#include "app/config/config.h"
#include "app/crypto/random.h"
#include "app/db/connection.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/db/tx.h"
#include "app/log/audit.h"
#include "app/log/logger.h"
#include "app/store/accounts.h"
#include "app/store/audit.h"
#include "app/store/members.h"
#include "app/store/mfa.h"
#include "app/store/tenants.h"
#include "app/text/limits.h"
#include "app/text/text.h"

namespace portcullis {
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitData = 65;  // EX_DATAERR: input refused (policy, unknown user)

struct Options {
  std::map<std::string, std::string> values;
  bool ok = true;
};

// --name value pairs; flags listed in `bare` take no value.
Options parse_options(const std::vector<std::string>& args,
                      size_t from,
                      const std::vector<std::string>& bare = {}) {
  Options o;
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      o.ok = false;
      continue;
    }
    std::string name = a.substr(2);
    if (std::find(bare.begin(), bare.end(), name) != bare.end()) {
      o.values[name] = "1";
    } else if (i + 1 < args.size()) {
      o.values[name] = args[++i];
    } else {
      o.ok = false;
    }
  }
  return o;
}

std::string get(const Options& o, const std::string& name) {
  auto it = o.values.find(name);
  return it == o.values.end() ? "" : it->second;
}

// One line from stdin, without echo when it is a terminal.
std::string read_password(const char* prompt) {
  bool tty = ::isatty(STDIN_FILENO) != 0;
  termios old{};
  if (tty) {
    std::fprintf(stderr, "%s", prompt);
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
  }
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

struct Env {
  Config config;
  // A Db, not a bare session: its write transactions (Tx) take SQLite's lock
  // up front and wait on the busy timeout while the server runs, and the
  // audit line of a change is logged once its transaction has committed.
  std::unique_ptr<Db> db;
  Backend backend;
};

Env open_env(const Options& o) {
  ConfigOptions co;
  co.env_file = get(o, "env-file");
  Env e;
  try {
    e.config = load_config(co);
  } catch (const ConfigError& err) {
    std::fprintf(stderr, "portcullis: configuration error: %s\n", err.what());
    std::exit(kExitConfig);
  }
  init_logging(e.config.log_level);
  // Sysadmin commands act across tenants: as the schema owner when one is
  // configured (PostgreSQL row-level security lets the owner through).
  std::string url =
      e.config.database_owner_url.empty() ? e.config.database_url : e.config.database_owner_url;
  e.backend = backend_of(url);
  e.db = std::make_unique<Db>(
      url, DbOptions{e.config.db_statement_timeout_ms, e.config.db_busy_timeout_ms});
  e.db->session();  // connect now: a database that can't be reached fails here
  return e;
}

AuditEvent system_event(const std::string& event) {
  AuditEvent ev;
  ev.event = event;
  ev.outcome = "success";
  ev.details = {{"actor", "system"}};
  return ev;
}

// Prints the policy problem and returns false when the password is refused.
bool password_acceptable(const std::string& password,
                         const std::vector<std::string>& context,
                         bool tenant_requires_mfa = false) {
  size_t min = tenant_requires_mfa ? kMinPasswordCodePointsWithMfa : kMinPasswordCodePoints;
  switch (check_password_policy(password, context, min)) {
    case PasswordProblem::kNone:
      return true;
    case PasswordProblem::kTooShort:
      std::fprintf(stderr, "portcullis: the password must be at least %zu characters\n", min);
      return false;
    case PasswordProblem::kTooLong:
      std::fprintf(stderr, "portcullis: the password must be at most 128 characters\n");
      return false;
    case PasswordProblem::kBlocklisted:
    case PasswordProblem::kContextWord:
      std::fprintf(stderr, "portcullis: the password is too common or contains a name\n");
      return false;
  }
  return false;
}

int tenant_create(const Options& o) {
  std::string name = trim_ascii(get(o, "name"));
  std::string email = normalize_email(get(o, "owner-email"));
  std::string display = trim_ascii(get(o, "owner-name"));
  if (display.empty()) {
    display = email.substr(0, email.find('@'));
  }
  if (name.empty() || code_points(name) > kMaxNameCodePoints || has_control_chars(name) ||
      !valid_email(email)) {
    std::fprintf(stderr,
                 "portcullis: tenant create needs --name (1–100 characters) and a valid "
                 "--owner-email\n");
    return kExitUsage;
  }
  Env env = open_env(o);
  std::string password = read_password("owner password: ");
  if (!password_acceptable(password, {name, email.substr(0, email.find('@')), display})) {
    return kExitData;
  }
  std::string tenant_id = uuid_v7();
  std::string user_id = uuid_v7();
  std::string hash = hash_password(password);
  if (store::accounts::email_taken(*env.db, email)) {
    std::fprintf(stderr, "portcullis: an account with this e-mail already exists\n");
    return kExitData;
  }
  int64_t created_at = now_ms();
  TenantTx tx(*env.db, tenant_id);
  store::tenants::insert(tx, name, created_at);
  Account owner;
  owner.user_id = user_id;
  owner.email = email;
  owner.display_name = display;
  owner.role = Role::kOwner;
  owner.password_hash = hash;
  owner.email_verified = true;  // the sysadmin vouches for the address
  if (!store::accounts::insert(tx, owner, created_at)) {
    std::fprintf(stderr, "portcullis: an account with this e-mail already exists\n");
    return kExitData;
  }
  AuditEvent ev = system_event("tenant.created");
  ev.tenant_id = tenant_id;
  ev.target_type = "tenant";
  ev.target_id = tenant_id;
  ev.details.emplace_back("owner_id", user_id);
  Audit audit(*env.db);
  store::audit::record(audit, *env.db, ev);
  tx.commit();
  std::printf("tenant %s created; owner %s (%s)\n", tenant_id.c_str(), user_id.c_str(),
              email.c_str());
  return 0;
}

int user_create(const Options& o) {
  std::string tenant_id = get(o, "tenant");
  std::string email = normalize_email(get(o, "email"));
  std::optional<Role> role = get(o, "role").empty() ? std::optional<Role>(Role::kMember)
                                                    : role_from_string(get(o, "role"));
  std::string display = trim_ascii(get(o, "name"));
  if (display.empty()) {
    display = email.substr(0, email.find('@'));
  }
  if (!is_uuid(tenant_id) || !valid_email(email) || !role) {
    std::fprintf(stderr,
                 "portcullis: user create needs --tenant ID, a valid --email and "
                 "--role member|admin|owner\n");
    return kExitUsage;
  }
  Env env = open_env(o);
  std::optional<store::tenants::Tenant> tenant = store::tenants::find(*env.db, tenant_id);
  if (!tenant) {
    std::fprintf(stderr, "portcullis: no such tenant\n");
    return kExitData;
  }
  std::string password = read_password("password: ");
  if (!password_acceptable(password, {tenant->name, email.substr(0, email.find('@')), display},
                           tenant->require_mfa)) {
    return kExitData;
  }
  Account user;
  user.user_id = uuid_v7();
  user.email = email;
  user.display_name = display;
  user.role = *role;
  user.password_hash = hash_password(password);
  user.email_verified = true;  // the sysadmin vouches for the address
  const std::string& user_id = user.user_id;
  if (store::accounts::email_taken(*env.db, email)) {
    std::fprintf(stderr, "portcullis: an account with this e-mail already exists\n");
    return kExitData;
  }
  TenantTx tx(*env.db, tenant_id);
  if (!store::accounts::insert(tx, user, now_ms())) {
    std::fprintf(stderr, "portcullis: an account with this e-mail already exists\n");
    return kExitData;
  }
  AuditEvent ev = system_event("user.created");
  ev.tenant_id = tenant_id;
  ev.target_type = "user";
  ev.target_id = user_id;
  ev.details.emplace_back("role", to_string(*role));
  Audit audit(*env.db);
  store::audit::record(audit, *env.db, ev);
  tx.commit();
  std::printf("user %s created in tenant %s\n", user_id.c_str(), tenant_id.c_str());
  return 0;
}

// disable | enable | unlock | reset-password, all by --email.
int user_change(const std::string& verb, const Options& o) {
  std::string email = normalize_email(get(o, "email"));
  if (!valid_email(email)) {
    std::fprintf(stderr, "portcullis: user %s needs --email\n", verb.c_str());
    return kExitUsage;
  }
  Env env = open_env(o);
  std::optional<Account> a = find_account_by_email(*env.db, email);
  if (!a) {
    std::fprintf(stderr, "portcullis: no such user\n");
    return kExitData;
  }
  AuditEvent ev =
      system_event("user." + (verb == "reset-password" ? "password_reset" : verb + "d"));
  if (verb == "unlock") {
    ev.event = "user.unlocked";
  } else if (verb == "reset-mfa") {
    ev.event = "mfa.reset";
  }
  ev.tenant_id = a->tenant_id;
  ev.target_type = "user";
  ev.target_id = a->user_id;
  std::string now = format_time_ms(now_ms());
  std::string hash;
  if (verb == "reset-password") {
    std::string password = read_password("new password: ");
    if (!password_acceptable(password,
                             {a->tenant_name, email.substr(0, email.find('@')), a->display_name})) {
      return kExitData;
    }
    hash = hash_password(password);
  }
  TenantTx tx(*env.db, a->tenant_id);
  long revoked = 0;
  if (verb == "disable" || verb == "enable") {
    bool disabled = verb == "disable";
    store::members::set_disabled(tx, a->user_id, disabled, now);
    if (disabled) {
      revoked = delete_user_sessions(tx, a->user_id, "", kRevokedSuspended);
    }
  } else if (verb == "unlock") {
    reset_email_failures(tx.tx(), email);
  } else if (verb == "reset-mfa") {
    // Recovery for a lost authenticator: MFA off, sessions ended.
    store::mfa::disable(tx, a->user_id, now);
    revoked = delete_user_sessions(tx, a->user_id, "", kRevokedMfaReset);
  } else if (verb == "reset-password") {
    store::accounts::set_password(tx, a->user_id, hash, now_ms());
    revoked = delete_user_sessions(tx, a->user_id, "", kRevokedPasswordReset);
    reset_email_failures(tx.tx(), email);
  }
  ev.details.emplace_back("sessions_revoked", std::to_string(revoked));
  if (verb == "reset-mfa") {
    int64_t at = now_ms();
    (void)notify_user(tx.tx(), env.config.notify_max_per_hour, notice_recipient(*a),
                      kNoticeMfaReset, {{"time", notice_time(at)}}, at);
  }
  Audit audit(*env.db);
  store::audit::record(audit, *env.db, ev);
  tx.commit();
  std::printf("user %s: %s done (%ld sessions revoked)\n", email.c_str(), verb.c_str(), revoked);
  return 0;
}

constexpr const char* kTenantUsage =
    "usage: portcullis tenant create --name NAME --owner-email EMAIL [--owner-name NAME]\n"
    "                                [--env-file FILE]\n"
    "The owner's password is read from standard input.\n";

constexpr const char* kUserUsage =
    "usage: portcullis user create --tenant ID --email EMAIL [--name NAME]\n"
    "                              [--role member|admin|owner] [--env-file FILE]\n"
    "       portcullis user disable|enable|unlock|reset-password|reset-mfa --email EMAIL\n"
    "                                                            [--env-file FILE]\n"
    "create and reset-password read the password from standard input; disable and\n"
    "reset-password end the user's sessions; unlock clears a login lockout;\n"
    "reset-mfa turns two-factor authentication off and ends the user's sessions.\n";

}  // namespace

int cmd_tenant(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kTenantUsage, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : 0;
  }
  Options o = parse_options(args, 1);
  if (args[0] != "create" || !o.ok) {
    std::fputs(kTenantUsage, stderr);
    return kExitUsage;
  }
  return tenant_create(o);
}

int cmd_user(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUserUsage, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : 0;
  }
  // `portcullis user VERB EMAIL` is accepted as well as `--email EMAIL`.
  std::vector<std::string> rest = args;
  if (rest.size() >= 2 && rest[1].rfind("--", 0) != 0) {
    rest.insert(rest.begin() + 1, "--email");
  }
  Options o = parse_options(rest, 1);
  if (!o.ok) {
    std::fputs(kUserUsage, stderr);
    return kExitUsage;
  }
  const std::string& verb = args[0];
  if (verb == "create") {
    return user_create(o);
  }
  if (verb == "disable" || verb == "enable" || verb == "unlock" || verb == "reset-password" ||
      verb == "reset-mfa") {
    return user_change(verb, o);
  }
  std::fputs(kUserUsage, stderr);
  return kExitUsage;
}

}  // namespace portcullis
