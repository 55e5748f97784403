// Configuration (DESIGN §5). Every variable is PORTCULLIS_<NAME>.
//
// Precedence, highest first:
//   1. systemd credentials ($CREDENTIALS_DIRECTORY/secret_key, …/data_keys), secrets only;
//   2. the process environment;
//   3. the env file the app reads itself (--env-file; default .env in
//      development, /etc/portcullis/portcullis.env in production);
//   4. built-in defaults.
// load_config() validates everything and throws ConfigError, whose message
// names the variable and how to fix it; callers exit with kExitConfig (78).
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/crypto/data_key.h"

namespace portcullis {

inline constexpr int kExitConfig = 78;  // EX_CONFIG from sysexits.h

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Config {
  std::string env = "development";
  std::string database_url;
  std::string database_owner_url;  // migrate only; empty = database_url
  std::string secret_key;          // raw bytes, >= 32
  std::vector<DataKey> data_keys;
  std::string data_key_primary;
  int workers = 0;  // 0 = 2 x cores
  std::string listen = "unix:var/run/fcgi.sock";
  size_t max_body_bytes = 128 * 1024;
  std::vector<std::string> allowed_origins;
  // Links in mail and invitations. Required in production (no silent localhost default).
  std::string public_base_url = "http://localhost:8080";
  std::string registration = "open";
  std::string log_level = "info";
  int max_requests_per_worker = 10000;
  // Where a worker's Argon2id working memory comes from (app/auth/passwords.h Argon2Memory):
  // auto | per-hash | arena | arena-prefault | arena-hugepages.
  std::string argon2_memory = "auto";
  // When those pages go back to the OS: idle (after a second without a request) | after-hash.
  std::string argon2_release = "idle";
  int shutdown_grace_seconds = 25;
  int db_statement_timeout_ms = 5000;
  int db_busy_timeout_ms = 5000;
  // Sessions and lockout (DESIGN §7); every number configurable so tests can
  // shorten them.
  int session_absolute_seconds = 8 * 3600;
  int session_idle_seconds = 30 * 60;
  int session_remember_seconds = 7 * 24 * 3600;
  int session_mfa_pending_seconds = 5 * 60;
  int session_touch_seconds = 60;  // last_seen_at written at most this often
  int step_up_seconds = 15 * 60;
  int max_sessions_per_user = 10;
  int invitation_seconds = 7 * 24 * 3600;
  int lockout_threshold = 5;
  int lockout_seconds = 15 * 60;
  int ip_throttle_limit = 30;
  int ip_throttle_window_seconds = 15 * 60;
  // Forgot-password requests per hour (REC-1): per address, per client IP.
  int reset_requests_per_email = 3;
  int reset_requests_per_ip = 20;
  // At most one e-mail verification resend per account in this many seconds.
  int verify_resend_seconds = 60;
  std::string migrations_dir;
  // Mail (README "Mail"; app/mail). smtp_url empty = development: .eml files in mail_dir.
  std::string smtp_url;       // smtp://host:port (STARTTLS required) or smtps://host:port
  std::string smtp_user;      // empty = the URL's user, if any
  std::string smtp_password;  // credential smtp_password, or the file SMTP_PASSWORD_FILE
  bool smtp_allow_plain_loopback = false;  // tests only: plain SMTP to 127.0.0.1 or ::1
  // A CA bundle (PEM) to trust instead of the system's, for a private relay;
  // empty = the system store. Verification stays on either way.
  std::string smtp_ca_file;
  std::string mail_from = "portcullis@localhost.test";
  std::string mail_from_name = "portcullis";
  std::string mail_templates_dir;  // empty = next to the binary (mail::default_templates_dir)
  std::string mail_dir;            // empty = <var_dir>/mail
  int mail_max_attempts = 8;
  int mail_retry_base_seconds = 60;  // backoff: base * 2^(attempt-1), capped at 6 h
  int mail_poll_seconds = 5;
  // Security notices (app/auth/notify.h): at most this many outbox rows per
  // account per hour; a notice beyond it is skipped (and logged).
  int notify_max_per_hour = 10;
  // `portcullis maintenance` deletes sent and dropped outbox rows older than
  // this (dead letters stay until retried).
  int outbox_retention_days = 30;
  std::string var_dir = "var";
  std::string env_file;               // the file that was read, if any
  std::vector<std::string> warnings;  // e.g. generated development secrets

  bool production() const { return env == "production"; }
};

struct ConfigOptions {
  std::string env_file;              // --env-file; empty = the default for ENV
  bool generate_dev_secrets = true;  // false for --check-config (report, don't write)
};

// Loads, merges and validates. Throws ConfigError.
Config load_config(const ConfigOptions& options);

// Parses KEY=VALUE lines (comments, blank lines, `export `, quotes). Throws
// ConfigError on a malformed line, naming the line number.
std::map<std::string, std::string> parse_env_file(const std::string& text, const std::string& name);

// A fresh 32-byte secret, base64.
std::string generate_secret();

}  // namespace portcullis
