// fcgi_hello: the smallest libfcgi server with portcullis's process model, as the ceiling the
// real stack is measured against (tests/bench/run.sh).
//
//   fcgi_hello --listen unix:PATH [--workers N]
//
// The master opens the unix socket itself (socket/bind/listen, backlog 1024 as
// `portcullis serve`), forks N workers that share it, and waits. Each worker loops
// FCGX_Accept_r → read stdin to the end → write a fixed 200 JSON answer → FCGX_Detach +
// FCGX_Finish_r (close at once, as the real worker does; DESIGN §2). SIGTERM or SIGINT to the
// master stops the workers (SIGKILL after 5 s), removes the socket and exits 0. Workers also die
// with the master (PR_SET_PDEATHSIG), so nothing outlives it. No respawn: a worker that exits on
// its own makes the master stop everything and exit 1.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcgiapp.h>

namespace {

volatile sig_atomic_t g_stop = 0;

void on_stop(int /*signo*/) { g_stop = 1; }

void usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s --listen unix:PATH [--workers N]\n", argv0);
}

int open_unix_socket(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    std::fprintf(stderr, "fcgi_hello: bad unix socket path: %s\n", path.c_str());
    return -1;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("fcgi_hello: socket");
    return -1;
  }
  ::unlink(path.c_str());  // a stale socket from an earlier run
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  mode_t old = ::umask(0117);  // 0660, as portcullis
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc < 0 || ::listen(fd, 1024) < 0) {
    std::perror(("fcgi_hello: bind/listen " + path).c_str());
    ::close(fd);
    return -1;
  }
  return fd;
}

// One worker: never returns.
[[noreturn]] void run_worker(int listen_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  // No SA_RESTART: the signal interrupts accept(), and FCGI_FAIL_ACCEPT_ON_INTR makes
  // FCGX_Accept_r return instead of retrying.
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (getppid() == 1) {  // the master died before PR_SET_PDEATHSIG took effect
    _exit(0);
  }

  if (FCGX_Init() != 0) {
    std::fprintf(stderr, "fcgi_hello: FCGX_Init failed\n");
    _exit(1);
  }
  FCGX_Request req;
  FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
  static const char kAnswer[] =
      "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"status\":\"ok\"}";
  char buf[16384];
  while (g_stop == 0) {
    if (FCGX_Accept_r(&req) < 0) {
      if (g_stop != 0 || errno == EINTR) {
        continue;
      }
      std::perror("fcgi_hello: FCGX_Accept_r");
      _exit(1);
    }
    while (FCGX_GetStr(buf, sizeof buf, req.in) > 0) {
      // drain the body: closing at once is safe only after stdin was read
    }
    FCGX_PutStr(kAnswer, static_cast<int>(sizeof kAnswer - 1), req.out);
    FCGX_Detach(&req);
    FCGX_Finish_r(&req);
  }
  _exit(0);
}

// Stops every live worker: SIGTERM, then SIGKILL after 5 s.
void stop_workers(std::vector<pid_t>& workers) {
  for (pid_t pid : workers) {
    ::kill(pid, SIGTERM);
  }
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  bool killed = false;
  while (!workers.empty()) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      std::erase(workers, pid);
      continue;
    }
    if (pid < 0 && errno != EINTR) {
      break;  // ECHILD: none left
    }
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!killed && now.tv_sec - start.tv_sec >= 5) {
      for (pid_t w : workers) {
        ::kill(w, SIGKILL);
      }
      killed = true;
    }
    ::usleep(10000);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen;
  long workers = 4;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--listen" || arg == "--workers") && i + 1 < argc) {
      std::string value = argv[++i];
      if (arg == "--listen") {
        listen = value;
      } else {
        char* end = nullptr;
        workers = std::strtol(value.c_str(), &end, 10);
        if (end == value.c_str() || *end != '\0' || workers < 1 || workers > 256) {
          std::fprintf(stderr, "fcgi_hello: --workers must be 1-256\n");
          return 2;
        }
      }
    } else if (arg == "--help" || arg == "-h") {
      usage(argv[0]);
      return 0;
    } else {
      usage(argv[0]);
      return 2;
    }
  }
  if (listen.rfind("unix:", 0) != 0) {
    usage(argv[0]);
    return 2;
  }
  const std::string path = listen.substr(5);

  // Block the signals the master waits for before forking, so none is lost in between. A shell
  // starts background jobs with SIGINT ignored: restore the defaults, sigwaitinfo() takes them.
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  sigset_t wait_set;
  sigemptyset(&wait_set);
  sigaddset(&wait_set, SIGTERM);
  sigaddset(&wait_set, SIGINT);
  sigaddset(&wait_set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &wait_set, nullptr);

  int fd = open_unix_socket(path);
  if (fd < 0) {
    return 1;
  }
  std::vector<pid_t> children;
  for (long i = 0; i < workers; ++i) {
    pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("fcgi_hello: fork");
      stop_workers(children);
      ::unlink(path.c_str());
      return 1;
    }
    if (pid == 0) {
      run_worker(fd);
    }
    children.push_back(pid);
  }

  int rc = 0;
  for (;;) {
    int signo = sigwaitinfo(&wait_set, nullptr);
    if (signo == SIGTERM || signo == SIGINT) {
      break;
    }
    if (signo == SIGCHLD) {
      int status = 0;
      pid_t pid = 0;
      bool lost = false;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        std::erase(children, pid);
        lost = true;
      }
      if (lost) {
        std::fprintf(stderr, "fcgi_hello: a worker exited; stopping\n");
        rc = 1;
        break;
      }
    }
  }
  stop_workers(children);
  ::close(fd);
  ::unlink(path.c_str());
  return rc;
}
