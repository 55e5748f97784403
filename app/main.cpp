// portcullis: one binary, subcommands (DESIGN §2). The only file in app/ that
// includes a handler header.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "app/auth/sessions.h"
#include "app/cli/admin.h"
#include "app/cli/keys.h"
#include "app/cli/mail.h"
#include "app/config/config.h"
#include "app/crypto/random.h"
#include "app/db/connection.h"
#include "app/db/errors.h"
#include "app/db/migrate.h"
#include "app/db/time.h"
#include "app/db/tx.h"
#include "app/log/audit.h"
#include "app/log/logger.h"
#include "app/server/master.h"
#include "app/store/audit.h"
#include "app/store/maintenance.h"

#include "handlers/routes.h"

#ifndef PORTCULLIS_VERSION
#define PORTCULLIS_VERSION "0.0.0-dev"
#endif

namespace portcullis {
namespace {

constexpr const char* kUsage =
    "usage: portcullis <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve         run the FastCGI master and its workers\n"
    "  migrate       apply pending database migrations\n"
    "  maintenance   delete expired sessions, stale throttle rows, spent tokens, old mail\n"
    "  tenant        create a tenant and its owner (tenant create)\n"
    "  user          create, disable, enable, unlock, reset-password\n"
    "  keys          field-encryption keys: generate, status, reencrypt\n"
    "  mail          the outbox: deliver, status, retry ID\n"
    "  gen-secret    print a new random 32-byte secret (base64)\n"
    "  version       print the version\n"
    "\n"
    "Run `portcullis <command> --help` for the options of a command.\n";

struct Args {
  std::vector<std::string> items;
  size_t pos = 0;
  bool next(std::string* out) {
    if (pos >= items.size()) {
      return false;
    }
    *out = items[pos++];
    return true;
  }
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "portcullis: %s\n", message.c_str());
  std::exit(64);  // EX_USAGE
}

std::string need_value(Args& args, const std::string& flag) {
  std::string v;
  if (!args.next(&v)) {
    usage_error(flag + " needs a value");
  }
  return v;
}

Config load_or_exit(const ConfigOptions& options) {
  try {
    Config cfg = load_config(options);
    init_logging(cfg.log_level);
    for (const std::string& w : cfg.warnings) {
      log_event(Level::kWarning, "config.warning", w);
    }
    return cfg;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "portcullis: configuration error: %s\n", e.what());
    std::exit(kExitConfig);
  }
}

int cmd_serve(Args& args) {
  ServeOptions options;
  bool check_only = false;
  std::string a;
  while (args.next(&a)) {
    if (a == "--env-file") {
      options.config_options.env_file = need_value(args, a);
    } else if (a == "--listen") {
      options.listen_override = need_value(args, a);
    } else if (a == "--workers") {
      options.workers_override = std::atoi(need_value(args, a).c_str());
      if (options.workers_override < 1 || options.workers_override > 256) {
        usage_error("--workers must be between 1 and 256");
      }
    } else if (a == "--check-config") {
      check_only = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: portcullis serve [--env-file FILE] [--listen unix:PATH|tcp:HOST:PORT]\n"
          "                        [--workers N] [--check-config]\n"
          "  --env-file FILE   env file to read (default .env, or /etc/portcullis/portcullis.env\n"
          "                    when PORTCULLIS_ENV=production)\n"
          "  --listen SPEC     FastCGI socket; ignored under systemd socket activation\n"
          "  --workers N       worker processes (default PORTCULLIS_WORKERS or 2 x cores)\n"
          "  --check-config    validate the configuration, print a summary and exit\n");
      return 0;
    } else {
      usage_error("unknown option for serve: " + a);
    }
  }
  if (check_only) {
    options.config_options.generate_dev_secrets = false;
  }
  Config cfg = load_or_exit(options.config_options);
  if (check_only) {
    std::printf("configuration ok\n");
    std::printf("  env            %s\n", cfg.env.c_str());
    std::printf("  env file       %s\n", cfg.env_file.empty() ? "(none)" : cfg.env_file.c_str());
    std::printf("  database       %s\n",
                backend_of(cfg.database_url) == Backend::kSqlite ? "sqlite" : "postgresql");
    std::printf("  listen         %s\n", options.listen_override.empty()
                                             ? cfg.listen.c_str()
                                             : options.listen_override.c_str());
    std::printf("  registration   %s\n", cfg.registration.c_str());
    std::printf("  data keys      %zu (primary %s)\n", cfg.data_keys.size(),
                cfg.data_key_primary.c_str());
    return 0;
  }
  return run_master(options, std::move(cfg), [] { return build_router(); });
}

int cmd_migrate(Args& args) {
  ConfigOptions options;
  std::string a;
  while (args.next(&a)) {
    if (a == "--env-file") {
      options.env_file = need_value(args, a);
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: portcullis migrate [--env-file FILE]\n"
          "Applies db/migrations/<backend>/NNNN_*.sql in order, each in a transaction,\n"
          "as PORTCULLIS_DATABASE_OWNER_URL when set (else PORTCULLIS_DATABASE_URL).\n"
          "Refuses to run when an applied migration file changed.\n");
      return 0;
    } else {
      usage_error("unknown option for migrate: " + a);
    }
  }
  Config cfg = load_or_exit(options);
  std::string url = cfg.database_owner_url.empty() ? cfg.database_url : cfg.database_owner_url;
  try {
    Backend backend = backend_of(url);
    std::vector<MigrationFile> files =
        load_migrations(default_migrations_dir(cfg.migrations_dir), backend);
    // Migrations may take longer than a request's statement timeout.
    auto session = open_session(url, DbOptions{600000, cfg.db_busy_timeout_ms});
    MigrateResult result = migrate(*session, backend, files);
    std::printf("migrations: %zu applied, %d already applied\n", result.applied.size(),
                result.already_applied);
    return 0;
  } catch (const MigrationError& e) {
    std::fprintf(stderr, "portcullis: migrate: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "portcullis: migrate failed: %s\n", loggable_what(e).c_str());
    return 1;
  }
}

int cmd_maintenance(Args& args) {
  ConfigOptions options;
  std::string a;
  while (args.next(&a)) {
    if (a == "--env-file") {
      options.env_file = need_value(args, a);
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: portcullis maintenance [--env-file FILE]\n"
          "Deletes expired and revoked sessions, throttle rows older than a day,\n"
          "known devices unused for 90 days, mail tokens used or expired over 7 days\n"
          "ago, tombstones of sessions revoked over 7 days\n"
          "ago, and sent or dropped outbox rows older than\n"
          "PORTCULLIS_OUTBOX_RETENTION_DAYS (default 30; dead letters stay).\n");
      return 0;
    } else {
      usage_error("unknown option for maintenance: " + a);
    }
  }
  Config cfg = load_or_exit(options);
  try {
    // A Db and a write Tx: SQLite's lock is taken up front and waited for
    // while the server runs, and the audit line is logged after the commit.
    Db db(cfg.database_url, DbOptions{600000, cfg.db_busy_timeout_ms});
    Tx tx(db);
    long sessions_deleted = static_cast<long>(store::maintenance::purge_sessions(tx));
    long throttle_deleted = static_cast<long>(store::maintenance::purge_throttle(tx));
    long devices_deleted = static_cast<long>(store::maintenance::purge_known_devices(tx));
    const int64_t now = now_ms();
    long tokens_deleted = static_cast<long>(store::maintenance::purge_user_tokens(
        tx, now - store::maintenance::kSpentTokenRetentionMs));
    long outbox_deleted = static_cast<long>(store::maintenance::purge_outbox(
        tx, now - static_cast<int64_t>(cfg.outbox_retention_days) * 24 * 3600 * 1000));
    long tombstones_deleted = static_cast<long>(
        store::maintenance::purge_revoked_sessions(tx, now - kRevokedSessionRetentionMs));
    Audit audit(db);
    AuditEvent ev;
    ev.event = "system.maintenance";
    ev.outcome = "success";
    ev.target_type = "system";
    ev.details = {{"sessions_deleted", std::to_string(sessions_deleted)},
                  {"throttle_rows_deleted", std::to_string(throttle_deleted)},
                  {"known_devices_deleted", std::to_string(devices_deleted)},
                  {"user_tokens_deleted", std::to_string(tokens_deleted)},
                  {"outbox_rows_deleted", std::to_string(outbox_deleted)},
                  {"revoked_session_tombstones_deleted", std::to_string(tombstones_deleted)}};
    store::audit::record(audit, db, ev);
    tx.commit();
    std::printf(
        "maintenance: %ld sessions, %ld throttle rows, %ld known devices, %ld user tokens, "
        "%ld outbox rows deleted; %ld revoked-session tombstones deleted\n",
        sessions_deleted, throttle_deleted, devices_deleted, tokens_deleted, outbox_deleted,
        tombstones_deleted);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "portcullis: maintenance failed: %s\n", loggable_what(e).c_str());
    return 1;
  }
}

}  // namespace
}  // namespace portcullis

int main(int argc, char** argv) {
  using namespace portcullis;
  Args args;
  for (int i = 1; i < argc; ++i) {
    args.items.emplace_back(argv[i]);
  }
  std::string command;
  if (!args.next(&command) || command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, command.empty() ? stderr : stdout);
    return command.empty() ? 64 : 0;
  }
  if (command == "serve") {
    return cmd_serve(args);
  }
  if (command == "migrate") {
    return cmd_migrate(args);
  }
  if (command == "maintenance") {
    return cmd_maintenance(args);
  }
  if (command == "tenant" || command == "user") {
    std::vector<std::string> rest(args.items.begin() + 1, args.items.end());
    try {
      return command == "tenant" ? cmd_tenant(rest) : cmd_user(rest);
    } catch (const std::exception& e) {
      // Never what() of a database error: it carries every bound value
      // (a password hash on a unique violation, say).
      std::fprintf(stderr, "portcullis: %s failed: %s\n", command.c_str(),
                   loggable_what(e).c_str());
      return 1;
    }
  }
  if (command == "keys") {
    std::vector<std::string> rest(args.items.begin() + 1, args.items.end());
    return cmd_keys(rest);
  }
  if (command == "mail") {
    std::vector<std::string> rest(args.items.begin() + 1, args.items.end());
    return cmd_mail(rest);
  }
  if (command == "gen-secret") {
    std::printf("%s\n", generate_secret().c_str());
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::printf("portcullis %s\n", PORTCULLIS_VERSION);
    return 0;
  }
  std::fprintf(stderr, "portcullis: unknown command \"%s\"\n\n%s", command.c_str(), kUsage);
  return 64;
}
