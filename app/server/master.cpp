#include "app/server/master.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <thread>

#include <systemd/sd-daemon.h>

#include "app/log/logger.h"
#include "app/server/listen.h"
#include "app/server/worker.h"

namespace portcullis {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kCrashWindow = std::chrono::seconds(30);
constexpr size_t kMaxCrashesInWindow = 20;
constexpr auto kMaxBackoff = std::chrono::milliseconds(5000);

int effective_workers(const Config& config, const ServeOptions& options) {
  if (options.workers_override > 0) {
    return options.workers_override;
  }
  if (config.workers > 0) {
    return config.workers;
  }
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  return static_cast<int>(cores > 0 ? 2 * cores : 2);
}

void log_master(Level level,
                const std::string& event,
                const std::string& outcome,
                std::vector<std::pair<std::string, std::string>> details = {}) {
  LogRecord r;
  r.event = event;
  r.outcome = outcome;
  r.details = std::move(details);
  log_record(level, r);
}

class Master {
 public:
  Master(const ServeOptions& options, Config config, std::function<Router()> make_router)
      : options_(options), config_(std::move(config)), make_router_(std::move(make_router)) {}

  int run();

 private:
  void spawn_one();
  void reap();
  void start_drain();
  void reload();
  void notify_status();
  std::chrono::milliseconds backoff() const;

  ServeOptions options_;
  Config config_;
  std::function<Router()> make_router_;
  Router router_;
  ListenSocket socket_;
  int generation_ = 0;
  std::map<pid_t, int> workers_;  // pid → generation
  int pending_spawns_ = 0;
  Clock::time_point next_spawn_at_{};
  std::deque<Clock::time_point> crashes_;
  bool draining_ = false;
  Clock::time_point drain_deadline_{};
  Clock::time_point last_term_sent_{};
  bool too_many_crashes_ = false;
};

std::chrono::milliseconds Master::backoff() const {
  // First crash: respawn at once (the other workers keep serving). Then
  // 100 ms doubling per further crash in the window, capped at 5 s.
  if (crashes_.size() <= 1) {
    return std::chrono::milliseconds(0);
  }
  auto delay = std::chrono::milliseconds(100) * (1 << std::min<size_t>(crashes_.size() - 2, 6));
  return std::min(delay, kMaxBackoff);
}

void Master::spawn_one() {
  pid_t pid = ::fork();
  if (pid < 0) {
    log_master(Level::kError, "server.fork_failed", "failure");
    ++pending_spawns_;
    next_spawn_at_ = Clock::now() + std::chrono::seconds(1);
    return;
  }
  if (pid == 0) {
    int code = run_worker(socket_.fd, config_, router_);
    std::fflush(stdout);
    ::_exit(code);
  }
  workers_[pid] = generation_;
}

void Master::reap() {
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
    auto it = workers_.find(pid);
    if (it == workers_.end()) {
      continue;
    }
    int gen = it->second;
    workers_.erase(it);
    if (draining_ || gen != generation_) {
      continue;  // retired on purpose
    }
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!clean) {
      auto now = Clock::now();
      crashes_.push_back(now);
      while (!crashes_.empty() && now - crashes_.front() > kCrashWindow) {
        crashes_.pop_front();
      }
      log_master(Level::kError, "server.worker_died", "failure",
                 {{"pid", std::to_string(pid)},
                  {"status", WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                                 : "exit " + std::to_string(WEXITSTATUS(status))}});
      if (crashes_.size() > kMaxCrashesInWindow) {
        too_many_crashes_ = true;
        return;
      }
      auto at = now + backoff();
      if (pending_spawns_ == 0 || at > next_spawn_at_) {
        next_spawn_at_ = at;
      }
    }
    ++pending_spawns_;  // clean exit = max_requests recycling: replace at once
  }
}

void Master::start_drain() {
  if (draining_) {
    return;
  }
  draining_ = true;
  pending_spawns_ = 0;
  drain_deadline_ = Clock::now() + std::chrono::seconds(config_.shutdown_grace_seconds);
  sd_notify(0, "STOPPING=1\nSTATUS=draining workers");
  log_master(Level::kInfo, "server.stopping", "success",
             {{"workers", std::to_string(workers_.size())}});
  for (const auto& [pid, gen] : workers_) {
    ::kill(pid, SIGTERM);
  }
  last_term_sent_ = Clock::now();
}

void Master::reload() {
  sd_notify(0, "RELOADING=1\nSTATUS=reloading");
  try {
    Config fresh = load_config(options_.config_options);
    if (!options_.listen_override.empty()) {
      fresh.listen = options_.listen_override;
    }
    config_ = std::move(fresh);
    set_log_level(config_.log_level);
  } catch (const ConfigError& e) {
    // Keep serving with the old configuration.
    log_master(Level::kError, "server.reload_failed", "failure", {{"error", e.what()}});
    sd_notify(0, "READY=1");
    notify_status();
    return;
  }
  // Rolling restart: start the new generation first, then drain the old one,
  // so a worker is always accepting. Whatever a worker builds at its start (its
  // database session, its WorkerKeys: field cipher and purpose keys) is therefore
  // built again from the new configuration; nothing in a running worker is reloaded.
  ++generation_;
  int n = effective_workers(config_, options_);
  std::vector<pid_t> old;
  for (const auto& [pid, gen] : workers_) {
    old.push_back(pid);
  }
  pending_spawns_ = 0;
  for (int i = 0; i < n; ++i) {
    spawn_one();
  }
  for (pid_t pid : old) {
    ::kill(pid, SIGTERM);
  }
  log_master(Level::kInfo, "server.reloaded", "success", {{"workers", std::to_string(n)}});
  sd_notify(0, "READY=1");
  notify_status();
}

void Master::notify_status() {
  std::string status = "STATUS=" + std::to_string(workers_.size()) + " workers";
  sd_notify(0, status.c_str());
}

int Master::run() {
  try {
    socket_ = open_listen_socket(options_.listen_override.empty() ? config_.listen
                                                                  : options_.listen_override);
  } catch (const std::exception& e) {
    log_master(Level::kCritical, "server.listen_failed", "failure", {{"error", e.what()}});
    std::fprintf(stderr, "portcullis: %s\n", e.what());
    return 1;
  }
  router_ = make_router_();

  // The master handles its signals synchronously (sigtimedwait), so nothing
  // runs in signal context here. Workers unblock them after fork().
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  int n = effective_workers(config_, options_);
  for (int i = 0; i < n; ++i) {
    spawn_one();
  }
  log_master(Level::kInfo, "server.start", "success",
             {{"workers", std::to_string(n)},
              {"listen", socket_.from_systemd
                             ? std::string("systemd socket")
                             : (options_.listen_override.empty() ? config_.listen
                                                                 : options_.listen_override)},
              {"env", config_.env}});
  sd_notify(0, "READY=1");
  notify_status();

  uint64_t watchdog_usec = 0;
  bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0;
  auto watchdog_every = std::chrono::microseconds(watchdog_usec / 2);
  auto last_ping = Clock::now();

  for (;;) {
    timespec timeout{0, 100 * 1000 * 1000};  // 100 ms tick
    siginfo_t info;
    int sig = sigtimedwait(&set, &info, &timeout);
    if (sig == SIGCHLD) {
      reap();
    } else if (sig == SIGTERM || sig == SIGINT) {
      start_drain();
    } else if (sig == SIGHUP && !draining_) {
      reload();
    }
    reap();  // SIGCHLD may coalesce
    auto now = Clock::now();
    if (too_many_crashes_) {
      log_master(Level::kCritical, "server.crash_loop", "failure",
                 {{"crashes", std::to_string(crashes_.size())}});
      for (const auto& [pid, gen] : workers_) {
        ::kill(pid, SIGKILL);
      }
      while (::waitpid(-1, nullptr, 0) > 0) {
      }
      if (!socket_.unix_path.empty()) {
        ::unlink(socket_.unix_path.c_str());
      }
      return 1;
    }
    if (!draining_ && pending_spawns_ > 0 && now >= next_spawn_at_) {
      while (pending_spawns_ > 0) {
        --pending_spawns_;
        spawn_one();
      }
      notify_status();
    }
    if (draining_) {
      if (workers_.empty()) {
        break;
      }
      if (now >= drain_deadline_) {
        log_master(Level::kWarning, "server.drain_timeout", "failure",
                   {{"killed", std::to_string(workers_.size())}});
        for (const auto& [pid, gen] : workers_) {
          ::kill(pid, SIGKILL);
        }
      } else if (now - last_term_sent_ > std::chrono::milliseconds(500)) {
        // A worker that got SIGTERM just before it entered accept() would
        // otherwise wait for one more request: remind it.
        for (const auto& [pid, gen] : workers_) {
          ::kill(pid, SIGTERM);
        }
        last_term_sent_ = now;
      }
    }
    if (watchdog && now - last_ping >= watchdog_every) {
      sd_notify(0, "WATCHDOG=1");
      last_ping = now;
    }
  }
  if (!socket_.unix_path.empty()) {
    ::unlink(socket_.unix_path.c_str());
  }
  log_master(Level::kInfo, "server.stopped", "success");
  return 0;
}

}  // namespace

int run_master(const ServeOptions& options,
               Config config,
               const std::function<Router()>& make_router) {
  Master master(options, std::move(config), make_router);
  return master.run();
}

}  // namespace portcullis
