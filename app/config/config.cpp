#include "app/config/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/crypto/random.h"

namespace portcullis {
namespace {

constexpr size_t kMinSecretBytes = 32;
constexpr const char* kDefaultProductionEnvFile = "/etc/portcullis/portcullis.env";
// Values that appear in .env.example: never accepted as a real secret.
constexpr const char* kPlaceholderSecrets[] = {"change-me", "changeme", "CHANGE_ME", ""};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) {
    return "";
  }
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string read_file(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *ok = false;
    return "";
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *ok = true;
  return ss.str();
}

class Sources {
 public:
  explicit Sources(std::map<std::string, std::string> file) : file_(std::move(file)) {}

  // Process environment beats the env file.
  bool get(const std::string& name, std::string* out) const {
    std::string full = "PORTCULLIS_" + name;
    if (const char* v = std::getenv(full.c_str())) {
      *out = v;
      return true;
    }
    auto it = file_.find(full);
    if (it != file_.end()) {
      *out = it->second;
      return true;
    }
    return false;
  }
  std::string get_or(const std::string& name, const std::string& fallback) const {
    std::string v;
    return get(name, &v) ? v : fallback;
  }

 private:
  std::map<std::string, std::string> file_;
};

// A systemd credential beats every other source for secrets.
bool read_credential(const std::string& name, std::string* out) {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir == nullptr || *dir == '\0') {
    return false;
  }
  bool ok = false;
  std::string content = read_file(std::string(dir) + "/" + name, &ok);
  if (!ok) {
    return false;
  }
  *out = trim(content);
  return true;
}

long parse_int(const std::string& name, const std::string& value, long lo, long hi) {
  errno = 0;
  char* end = nullptr;
  long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || errno != 0 || *end != '\0' || v < lo || v > hi) {
    throw ConfigError("PORTCULLIS_" + name + " must be an integer between " + std::to_string(lo) +
                      " and " + std::to_string(hi) + " (got \"" + value + "\")");
  }
  return v;
}

std::vector<std::string> split_list(const std::string& value) {
  std::vector<std::string> out;
  std::stringstream ss(value);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

bool is_placeholder(const std::string& v) {
  for (const char* p : kPlaceholderSecrets) {
    if (v == p) {
      return true;
    }
  }
  return false;
}

std::string secret_help(const std::string& var) {
  return "set PORTCULLIS_" + var +
         " in the env file or as a systemd credential; make one with `portcullis gen-secret`";
}

// Decodes and checks the root secret. Throws ConfigError naming the variable.
std::string decode_secret_key(const std::string& value) {
  std::string raw;
  if (is_placeholder(value) || !base64_decode(value, &raw) || raw.size() < kMinSecretBytes) {
    throw ConfigError("PORTCULLIS_SECRET_KEY is missing, a placeholder or shorter than 32 bytes: " +
                      secret_help("SECRET_KEY"));
  }
  return raw;
}

// DATA_KEYS = id:base64key,… — each key exactly 32 bytes (AES-256).
std::vector<DataKey> decode_data_keys(const std::string& value) {
  std::vector<DataKey> keys;
  for (const std::string& item : split_list(value)) {
    size_t colon = item.find(':');
    std::string id = colon == std::string::npos ? "" : item.substr(0, colon);
    std::string raw;
    bool id_ok =
        !id.empty() && id.size() <= 32 &&
        id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
            std::string::npos;
    if (!id_ok || !base64_decode(item.substr(colon + 1), &raw) || raw.size() != 32) {
      throw ConfigError(
          "PORTCULLIS_DATA_KEYS must be a comma-separated list of id:base64key with 32-byte keys: "
          "make a key with `portcullis gen-secret` and write it as k1:<key>");
    }
    for (const DataKey& k : keys) {
      if (k.id == id) {
        throw ConfigError("PORTCULLIS_DATA_KEYS lists key id \"" + id + "\" twice");
      }
    }
    keys.push_back(DataKey{id, raw});
  }
  if (keys.empty()) {
    throw ConfigError("PORTCULLIS_DATA_KEYS is missing: " + secret_help("DATA_KEYS") +
                      " (written as k1:<key>)");
  }
  return keys;
}

// Development only: reads var/secrets/<name>, or creates it (0600) once.
std::string dev_secret(const Config& cfg,
                       const std::string& name,
                       const std::string& fresh,
                       bool may_write,
                       std::vector<std::string>* warnings) {
  std::filesystem::path dir = std::filesystem::path(cfg.var_dir) / "secrets";
  std::filesystem::path file = dir / name;
  bool ok = false;
  std::string existing = read_file(file.string(), &ok);
  if (ok && !trim(existing).empty()) {
    return trim(existing);
  }
  if (!may_write) {
    warnings->push_back("development: " + file.string() + " would be generated");
    return fresh;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ::chmod(dir.c_str(), 0700);
  mode_t old = ::umask(077);
  {
    std::ofstream out(file, std::ios::trunc);
    out << fresh << "\n";
    if (!out) {
      ::umask(old);
      throw ConfigError("cannot write development secret " + file.string());
    }
  }
  ::umask(old);
  ::chmod(file.c_str(), 0600);
  warnings->push_back("development: generated a new secret in " + file.string() +
                      " (never use generated development secrets in production)");
  return fresh;
}

}  // namespace

std::map<std::string, std::string> parse_env_file(const std::string& text,
                                                  const std::string& name) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') {
      continue;
    }
    if (t.rfind("export ", 0) == 0) {
      t = trim(t.substr(7));
    }
    size_t eq = t.find('=');
    std::string key = eq == std::string::npos ? "" : trim(t.substr(0, eq));
    if (key.empty() || key.find_first_of(" \t") != std::string::npos) {
      throw ConfigError(name + ":" + std::to_string(number) + ": expected KEY=VALUE");
    }
    std::string value = trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    out[key] = value;
  }
  return out;
}

std::string generate_secret() { return base64_encode(random_bytes(32)); }

Config load_config(const ConfigOptions& options) {
  Config cfg;
  // Which env file: explicit, else the default for the environment the
  // process environment names (the file cannot choose its own location).
  const char* env_from_process = std::getenv("PORTCULLIS_ENV");
  bool explicit_file = !options.env_file.empty();
  std::string env_file = options.env_file;
  if (!explicit_file) {
    env_file = (env_from_process != nullptr && std::string(env_from_process) == "production")
                   ? kDefaultProductionEnvFile
                   : ".env";
  }
  std::map<std::string, std::string> file_values;
  bool ok = false;
  std::string text = read_file(env_file, &ok);
  if (ok) {
    file_values = parse_env_file(text, env_file);
    cfg.env_file = env_file;
  } else if (explicit_file) {
    throw ConfigError("cannot read env file " + env_file);
  }
  Sources src(std::move(file_values));

  cfg.env = src.get_or("ENV", "development");
  if (cfg.env != "development" && cfg.env != "production") {
    throw ConfigError("PORTCULLIS_ENV must be development or production (got \"" + cfg.env + "\")");
  }
  cfg.var_dir = src.get_or("VAR_DIR", cfg.production() ? "/var/lib/portcullis" : "var");
  cfg.database_url =
      src.get_or("DATABASE_URL", cfg.production() ? "sqlite:///var/lib/portcullis/portcullis.db"
                                                  : "sqlite://" + cfg.var_dir + "/portcullis.db");
  if (cfg.database_url.rfind("sqlite:", 0) != 0 &&
      cfg.database_url.rfind("postgresql://", 0) != 0 &&
      cfg.database_url.rfind("postgres://", 0) != 0) {
    throw ConfigError(
        "PORTCULLIS_DATABASE_URL must start with sqlite:// or postgresql:// (got another scheme)");
  }
  cfg.database_owner_url = src.get_or("DATABASE_OWNER_URL", "");
  cfg.workers = static_cast<int>(parse_int("WORKERS", src.get_or("WORKERS", "0"), 0, 256));
  cfg.listen = src.get_or("LISTEN", cfg.production() ? "unix:/run/portcullis/fcgi.sock"
                                                     : "unix:" + cfg.var_dir + "/run/fcgi.sock");
  if (cfg.listen.rfind("unix:", 0) != 0 && cfg.listen.rfind("tcp:", 0) != 0) {
    throw ConfigError("PORTCULLIS_LISTEN must be unix:PATH or tcp:HOST:PORT");
  }
  cfg.max_body_bytes = static_cast<size_t>(
      parse_int("MAX_BODY_BYTES", src.get_or("MAX_BODY_BYTES", "131072"), 1024, 16 * 1024 * 1024));
  cfg.allowed_origins = split_list(src.get_or(
      "ALLOWED_ORIGINS", cfg.production() ? "" : "http://localhost:8080,http://127.0.0.1:8080"));
  // PORTCULLIS_TRUSTED_PROXY is nginx's (render-dev.sh → set_real_ip_from): the client address
  // is REMOTE_ADDR as nginx sets it; the app never reads X-Forwarded-For.
  // Links are built from this, never from Host or X-Forwarded-Host (REC-3).
  // Production has no sensible default: a link to localhost in a mail is useless at best.
  bool have_base_url = src.get("PUBLIC_BASE_URL", &cfg.public_base_url);
  if (!have_base_url) {
    cfg.public_base_url = "http://localhost:8080";
  }
  while (!cfg.public_base_url.empty() && cfg.public_base_url.back() == '/') {
    cfg.public_base_url.pop_back();
  }
  if (cfg.public_base_url.rfind("https://", 0) != 0 &&
      cfg.public_base_url.rfind("http://", 0) != 0) {
    throw ConfigError("PORTCULLIS_PUBLIC_BASE_URL must be an http(s) URL");
  }
  cfg.registration = src.get_or("REGISTRATION", cfg.production() ? "closed" : "open");
  if (cfg.registration != "open" && cfg.registration != "invite" && cfg.registration != "closed") {
    throw ConfigError("PORTCULLIS_REGISTRATION must be open, invite or closed");
  }
  cfg.log_level = src.get_or("LOG_LEVEL", "info");
  if (cfg.log_level != "debug" && cfg.log_level != "info" && cfg.log_level != "warning" &&
      cfg.log_level != "error") {
    throw ConfigError("PORTCULLIS_LOG_LEVEL must be debug, info, warning or error");
  }
  cfg.argon2_memory = src.get_or("ARGON2_MEMORY", "auto");
  if (cfg.argon2_memory != "auto" && cfg.argon2_memory != "per-hash" &&
      cfg.argon2_memory != "arena" && cfg.argon2_memory != "arena-prefault" &&
      cfg.argon2_memory != "arena-hugepages") {
    throw ConfigError(
        "PORTCULLIS_ARGON2_MEMORY must be auto, per-hash, arena, arena-prefault or "
        "arena-hugepages");
  }
  cfg.argon2_release = src.get_or("ARGON2_RELEASE", "idle");
  if (cfg.argon2_release != "idle" && cfg.argon2_release != "after-hash") {
    throw ConfigError("PORTCULLIS_ARGON2_RELEASE must be idle or after-hash");
  }
  cfg.max_requests_per_worker = static_cast<int>(parse_int(
      "MAX_REQUESTS_PER_WORKER", src.get_or("MAX_REQUESTS_PER_WORKER", "10000"), 0, 100000000));
  cfg.shutdown_grace_seconds = static_cast<int>(
      parse_int("SHUTDOWN_GRACE_SECONDS", src.get_or("SHUTDOWN_GRACE_SECONDS", "25"), 1, 3600));
  cfg.db_statement_timeout_ms = static_cast<int>(parse_int(
      "DB_STATEMENT_TIMEOUT_MS", src.get_or("DB_STATEMENT_TIMEOUT_MS", "5000"), 100, 600000));
  cfg.db_busy_timeout_ms = static_cast<int>(
      parse_int("DB_BUSY_TIMEOUT_MS", src.get_or("DB_BUSY_TIMEOUT_MS", "5000"), 0, 600000));
  cfg.migrations_dir = src.get_or("MIGRATIONS_DIR", "");
  cfg.smtp_url = src.get_or("SMTP_URL", "");
  if (!cfg.smtp_url.empty() && cfg.smtp_url.rfind("smtp://", 0) != 0 &&
      cfg.smtp_url.rfind("smtps://", 0) != 0) {
    throw ConfigError("PORTCULLIS_SMTP_URL must start with smtp:// (STARTTLS) or smtps://");
  }
  cfg.smtp_user = src.get_or("SMTP_USER", "");
  std::string password_file;
  if (!read_credential("smtp_password", &cfg.smtp_password) &&
      src.get("SMTP_PASSWORD_FILE", &password_file)) {
    bool readable = false;
    cfg.smtp_password = read_file(password_file, &readable);
    if (!readable) {
      throw ConfigError("PORTCULLIS_SMTP_PASSWORD_FILE cannot be read");
    }
  }
  cfg.smtp_password = trim(cfg.smtp_password);
  cfg.smtp_ca_file = src.get_or("SMTP_CA_FILE", "");
  if (!cfg.smtp_ca_file.empty()) {
    // Checked at start-up, so a typo fails the unit, not every send.
    bool readable = false;
    std::string pem = read_file(cfg.smtp_ca_file, &readable);
    if (!readable || pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      throw ConfigError("PORTCULLIS_SMTP_CA_FILE must name a readable PEM file of CA certificates");
    }
  }
  cfg.smtp_allow_plain_loopback = src.get_or("SMTP_ALLOW_PLAIN_LOOPBACK", "0") == "1";
  if (cfg.smtp_allow_plain_loopback && cfg.production()) {
    throw ConfigError("PORTCULLIS_SMTP_ALLOW_PLAIN_LOOPBACK is for tests, not production");
  }
  cfg.mail_from = trim(src.get_or("MAIL_FROM", cfg.mail_from));
  cfg.mail_from_name = src.get_or("MAIL_FROM_NAME", cfg.mail_from_name);
  cfg.mail_templates_dir = src.get_or("MAIL_TEMPLATES_DIR", "");
  cfg.mail_dir = src.get_or("MAIL_DIR", (std::filesystem::path(cfg.var_dir) / "mail").string());
  auto number = [&](const char* name, int fallback, long lo, long hi) {
    return static_cast<int>(parse_int(name, src.get_or(name, std::to_string(fallback)), lo, hi));
  };
  cfg.session_absolute_seconds =
      number("SESSION_ABSOLUTE_SECONDS", cfg.session_absolute_seconds, 60, 30 * 86400);
  cfg.session_idle_seconds = number("SESSION_IDLE_SECONDS", cfg.session_idle_seconds, 10, 86400);
  cfg.session_remember_seconds =
      number("SESSION_REMEMBER_SECONDS", cfg.session_remember_seconds, 60, 30 * 86400);
  cfg.session_mfa_pending_seconds =
      number("SESSION_MFA_PENDING_SECONDS", cfg.session_mfa_pending_seconds, 10, 3600);
  cfg.session_touch_seconds = number("SESSION_TOUCH_SECONDS", cfg.session_touch_seconds, 0, 3600);
  cfg.step_up_seconds = number("STEP_UP_SECONDS", cfg.step_up_seconds, 10, 86400);
  cfg.max_sessions_per_user = number("MAX_SESSIONS_PER_USER", cfg.max_sessions_per_user, 1, 1000);
  cfg.invitation_seconds = number("INVITATION_SECONDS", cfg.invitation_seconds, 60, 90 * 86400);
  cfg.lockout_threshold = number("LOCKOUT_THRESHOLD", cfg.lockout_threshold, 1, 100);
  cfg.lockout_seconds = number("LOCKOUT_SECONDS", cfg.lockout_seconds, 1, 86400);
  cfg.ip_throttle_limit = number("IP_THROTTLE_LIMIT", cfg.ip_throttle_limit, 1, 100000);
  cfg.ip_throttle_window_seconds =
      number("IP_THROTTLE_WINDOW_SECONDS", cfg.ip_throttle_window_seconds, 1, 86400);
  cfg.reset_requests_per_email =
      number("RESET_REQUESTS_PER_EMAIL", cfg.reset_requests_per_email, 1, 1000);
  cfg.reset_requests_per_ip =
      number("RESET_REQUESTS_PER_IP", cfg.reset_requests_per_ip, 1, 1000000);
  cfg.verify_resend_seconds = number("VERIFY_RESEND_SECONDS", cfg.verify_resend_seconds, 1, 86400);
  cfg.mail_max_attempts = number("MAIL_MAX_ATTEMPTS", cfg.mail_max_attempts, 1, 100);
  cfg.mail_retry_base_seconds =
      number("MAIL_RETRY_BASE_SECONDS", cfg.mail_retry_base_seconds, 0, 86400);
  cfg.mail_poll_seconds = number("MAIL_POLL_SECONDS", cfg.mail_poll_seconds, 1, 3600);
  cfg.notify_max_per_hour = number("NOTIFY_MAX_PER_HOUR", cfg.notify_max_per_hour, 1, 1000);
  cfg.outbox_retention_days = number("OUTBOX_RETENTION_DAYS", cfg.outbox_retention_days, 1, 3650);

  // Secrets: credential > environment > env file; then development fallback.
  std::string secret;
  bool have_secret = read_credential("secret_key", &secret) || src.get("SECRET_KEY", &secret);
  std::string data_keys;
  bool have_keys = read_credential("data_keys", &data_keys) || src.get("DATA_KEYS", &data_keys);
  std::string primary;
  bool have_primary = src.get("DATA_KEY_PRIMARY", &primary);

  if (cfg.production()) {
    if (!have_secret) {
      throw ConfigError("PORTCULLIS_SECRET_KEY is missing: " + secret_help("SECRET_KEY"));
    }
    if (!have_keys) {
      throw ConfigError("PORTCULLIS_DATA_KEYS is missing: " + secret_help("DATA_KEYS") +
                        " (written as k1:<key>)");
    }
  } else {
    if (!have_secret || trim(secret).empty()) {
      secret = dev_secret(cfg, "secret_key", generate_secret(), options.generate_dev_secrets,
                          &cfg.warnings);
    }
    if (!have_keys || trim(data_keys).empty()) {
      data_keys = dev_secret(cfg, "data_keys", "k1:" + generate_secret(),
                             options.generate_dev_secrets, &cfg.warnings);
    }
  }
  cfg.secret_key = decode_secret_key(trim(secret));
  cfg.data_keys = decode_data_keys(trim(data_keys));
  cfg.data_key_primary = have_primary ? trim(primary) : cfg.data_keys.front().id;
  bool found = false;
  for (const DataKey& k : cfg.data_keys) {
    found = found || k.id == cfg.data_key_primary;
  }
  if (!found) {
    throw ConfigError("PORTCULLIS_DATA_KEY_PRIMARY names key \"" + cfg.data_key_primary +
                      "\", which PORTCULLIS_DATA_KEYS does not contain");
  }
  // After the secrets, so a missing secret is still the first thing a new
  // production install is told about.
  if (cfg.production() && !have_base_url) {
    throw ConfigError(
        "PORTCULLIS_PUBLIC_BASE_URL is missing: production needs the public https:// address "
        "that links in mail point to (e.g. PORTCULLIS_PUBLIC_BASE_URL=https://example.org)");
  }
  return cfg;
}

}  // namespace portcullis
