// The loopback SMTP server (tests/integration/smtp_sink.py) and `portcullis
// mail deliver --once`, for integration tests that read the mail the server
// sends. Only the sink's own PID is ever stopped.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "app/crypto/random.h"

namespace portcullis::testing::mail_sink {

inline std::string env_of(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

inline std::string shell_output(const std::string& cmd, int* exit_code = nullptr) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    return out;
  }
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    out.append(buf.data(), n);
  }
  int status = ::pclose(p);
  if (exit_code != nullptr) {
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return out;
}

inline bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

inline int unused_port() {
  for (int i = 0; i < 200; ++i) {
    int p = 10000 + static_cast<int>(std::stoul(random_hex(2), nullptr, 16) * 80 % 22000);
    if (!port_open(p)) {
      return p;
    }
  }
  return 0;
}

inline std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Quoted-printable undone (soft line breaks and =XX), for reading bodies.
inline std::string qp_decode(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=' && i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
      i += 2;
    } else if (in[i] == '=' && i + 2 < in.size() && std::isxdigit(in[i + 1]) &&
               std::isxdigit(in[i + 2])) {
      out.push_back(static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

class SmtpSink {
 public:
  // `options`: smtp_sink.py's (--starttls, --implicit-tls, --cert, --key,
  // --auth); none = plain SMTP, no AUTH.
  explicit SmtpSink(int port = 0, std::string options = "")
      : port_(port == 0 ? unused_port() : port), options_(std::move(options)) {
    dir_ = env_of("PORTCULLIS_TEST_DIR") + "/smtp-" + random_hex(4);
    std::filesystem::create_directories(dir_);
    start();
  }
  ~SmtpSink() { stop(); }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  // The server up (again, after stop(): a mail server that comes back).
  void start() {
    std::string script = env_of("PORTCULLIS_TEST_SOURCE_DIR") + "/tests/integration/smtp_sink.py";
    std::string out =
        shell_output("/usr/bin/python3 " + script + " " + std::to_string(port_) + " " + dir_ + " " +
                     options_ + " >" + dir_ + ".log 2>&1 & echo $!");
    pid_ = std::atoi(out.c_str());
    for (int i = 0; i < 100 && !port_open(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(port_open(port_)) << read_all(dir_ + ".log");
  }
  void stop() {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 50 && ::kill(pid_, 0) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (::kill(pid_, 0) == 0) {
      ::kill(pid_, SIGKILL);
    }
    pid_ = 0;
  }
  int port() const { return port_; }

  // The messages whose envelope recipient is `address`, as received.
  std::vector<std::string> raw_messages_to(const std::string& address) const {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      if (entry.path().extension() != ".msg") {
        continue;
      }
      std::string m = read_all(entry.path());
      if (m.find("X-Sink-Rcpt-To: <" + address + ">\r\n") != std::string::npos) {
        out.push_back(m);
      }
    }
    return out;
  }

  // Sends every due outbox row to this sink: `portcullis mail deliver --once`.
  std::string deliver() const {
    std::string env = "PORTCULLIS_SMTP_URL=smtp://127.0.0.1:" + std::to_string(port_) +
                      " PORTCULLIS_SMTP_ALLOW_PLAIN_LOOPBACK=1"
                      " PORTCULLIS_MAIL_FROM=no-reply@portcullis.test"
                      " PORTCULLIS_PUBLIC_BASE_URL=https://app.portcullis.test";
    return shell_output("env " + env + " " + env_of("PORTCULLIS_TEST_BIN") +
                        " mail deliver --once --env-file " + env_of("PORTCULLIS_TEST_ENV_FILE") +
                        " 2>&1");
  }

  // The messages whose envelope recipient is `address`, quoted-printable
  // decoded; with `subject`, only those with that Subject.
  std::vector<std::string> messages_to(const std::string& address,
                                       const std::string& subject = "") const {
    std::vector<std::string> out;
    for (const std::string& m : raw_messages_to(address)) {
      if (subject.empty() || m.find("\r\nSubject: " + subject + "\r\n") != std::string::npos) {
        out.push_back(qp_decode(m));
      }
    }
    return out;
  }

 private:
  int port_;
  std::string options_;
  int pid_ = 0;
  std::string dir_;
};

}  // namespace portcullis::testing::mail_sink
