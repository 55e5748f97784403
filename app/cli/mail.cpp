#include "app/cli/mail.h"

#include <signal.h>
#include <time.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include "app/auth/account.h"
#include "app/config/config.h"
#include "app/crypto/random.h"
#include "app/crypto/worker_keys.h"
#include "app/db/connection.h"
#include "app/db/errors.h"
#include "app/db/time.h"
#include "app/log/logger.h"
#include "app/mail/compose.h"
#include "app/mail/deliver.h"
#include "app/mail/transport.h"
#include "app/store/outbox.h"

namespace portcullis {
namespace {

constexpr const char* kMailUsage =
    "usage: portcullis mail deliver [--once] [--env-file FILE]\n"
    "       portcullis mail status [--env-file FILE]\n"
    "       portcullis mail retry ID [--env-file FILE]\n"
    "  deliver   send what the outbox holds, until SIGTERM (--once: what is due now, then exit)\n"
    "  status    row counts by status, and the dead letters (id, kind, attempts, last error)\n"
    "  retry ID  put a dead letter back in the queue\n";

volatile std::sig_atomic_t g_stop = 0;

void on_stop(int /*signal*/) { g_stop = 1; }

// Sleeps up to `seconds`, waking early when a stop signal came.
void nap(int seconds) {
  for (int i = 0; i < seconds * 10 && g_stop == 0; ++i) {
    struct timespec ts {
      0, 100 * 1000 * 1000
    };
    ::nanosleep(&ts, nullptr);
  }
}

int deliver(const Config& cfg, bool once) {
  mail::ComposeSettings settings;
  settings.templates_dir = mail::default_templates_dir(cfg.mail_templates_dir);
  settings.from_address = normalize_email(cfg.mail_from);
  settings.from_name = cfg.mail_from_name;
  settings.public_base_url = cfg.public_base_url;
  if (!mail::header_safe_address(settings.from_address)) {
    std::fprintf(stderr,
                 "portcullis: configuration error: PORTCULLIS_MAIL_FROM is not a usable "
                 "address\n");
    return kExitConfig;
  }
  std::unique_ptr<mail::Transport> transport;
  try {
    transport = mail::make_transport(cfg);
  } catch (const mail::MailError& e) {
    std::fprintf(stderr, "portcullis: configuration error: %s\n", e.what());
    return kExitConfig;
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  // The reset tokens minted for forgot-password requests are stored under
  // the workers' recovery-token key (app/auth/recovery.h).
  const WorkerKeys keys(cfg.secret_key, cfg.data_keys, cfg.data_key_primary);
  Db db(cfg.database_url, DbOptions{cfg.db_statement_timeout_ms, cfg.db_busy_timeout_ms});
  LogRecord start;
  start.event = "mail.deliver_start";
  start.details = {{"transport", cfg.smtp_url.empty() ? "files" : "smtp"},
                   {"mode", once ? "once" : "loop"}};
  log_record(Level::kInfo, start);
  if (once) {
    // What is due now, in one claim: a row that fails stays for a later run.
    mail::PassResult r =
        mail::deliver_due(db, cfg, settings, *transport, 1000, keys.recovery_token_key());
    std::fprintf(stderr, "mail: %d claimed, %d sent, %d to retry, %d dead, %d dropped\n", r.claimed,
                 r.sent, r.retried, r.dead, r.dropped);
    // EX_TEMPFAIL: something is still to send (a dropped row never will be).
    return r.claimed == r.sent + r.dropped ? 0 : 75;
  }
  while (g_stop == 0) {
    try {
      mail::PassResult r =
          mail::deliver_due(db, cfg, settings, *transport, 50, keys.recovery_token_key());
      if (r.claimed == 0) {
        nap(cfg.mail_poll_seconds);
      }
    } catch (const std::exception& e) {
      // The database went away: log, wait, reconnect on the next pass.
      log_event(Level::kError, "mail.deliver_error", loggable_what(e));
      db.check_after_error();
      nap(cfg.mail_poll_seconds);
    }
  }
  log_event(Level::kInfo, "mail.deliver_stop", "stopped by signal");
  return 0;
}

int status(const Config& cfg) {
  Db db(cfg.database_url, DbOptions{cfg.db_statement_timeout_ms, cfg.db_busy_timeout_ms});
  std::map<std::string, int64_t> counts = store::outbox::count_by_status(db);
  for (const char* s : {"pending", "sending", "sent", "dead", "dropped"}) {
    auto it = counts.find(s);
    std::printf("%-8s %lld\n", s, static_cast<long long>(it == counts.end() ? 0 : it->second));
  }
  std::vector<store::outbox::DeadLetter> dead = store::outbox::dead_letters(db, 100);
  if (!dead.empty()) {
    std::printf("\ndead letters (id, kind, attempts, last error):\n");
    for (const store::outbox::DeadLetter& d : dead) {
      std::printf("%s  %s  %d  %s\n", d.id.c_str(), d.kind.c_str(), d.attempts,
                  d.last_error.c_str());
    }
  }
  return 0;
}

int retry(const Config& cfg, const std::string& id) {
  if (!is_uuid(id)) {
    std::fprintf(stderr, "portcullis: mail retry: not an outbox id\n");
    return 64;
  }
  Db db(cfg.database_url, DbOptions{cfg.db_statement_timeout_ms, cfg.db_busy_timeout_ms});
  if (!store::outbox::retry_dead(db, id, now_ms())) {
    std::fprintf(stderr, "portcullis: mail retry: no dead letter with that id\n");
    return 1;
  }
  LogRecord r;
  r.event = "mail.requeued";
  r.outcome = "success";
  r.target_type = "outbox";
  r.target_id = id;
  log_record(Level::kInfo, r);
  std::printf("requeued %s\n", id.c_str());
  return 0;
}

}  // namespace

int cmd_mail(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kMailUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 64 : 0;
  }
  const std::string& sub = args[0];
  ConfigOptions options;
  bool once = false;
  std::string id;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--env-file" && i + 1 < args.size()) {
      options.env_file = args[++i];
    } else if (args[i] == "--once" && sub == "deliver") {
      once = true;
    } else if (sub == "retry" && id.empty() && args[i].rfind("--", 0) != 0) {
      id = args[i];
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kMailUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "portcullis: mail %s: unknown argument\n%s", sub.c_str(), kMailUsage);
      return 64;
    }
  }
  if (sub != "deliver" && sub != "status" && sub != "retry") {
    std::fprintf(stderr, "portcullis: unknown mail command\n%s", kMailUsage);
    return 64;
  }
  if (sub == "retry" && id.empty()) {
    std::fprintf(stderr, "portcullis: mail retry needs an ID\n");
    return 64;
  }
  options.generate_dev_secrets = false;
  Config cfg;
  try {
    cfg = load_config(options);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "portcullis: configuration error: %s\n", e.what());
    return kExitConfig;
  }
  init_logging(cfg.log_level);
  try {
    if (sub == "deliver") {
      return deliver(cfg, once);
    }
    if (sub == "status") {
      return status(cfg);
    }
    return retry(cfg, id);
  } catch (const std::exception& e) {
    // Never what() of a database error: it carries bound values.
    std::fprintf(stderr, "portcullis: mail %s failed: %s\n", sub.c_str(), loggable_what(e).c_str());
    return 1;
  }
}

}  // namespace portcullis
