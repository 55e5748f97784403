// Mail helpers for the password-recovery tests (recovery_test.cpp, and the
// route walk's reset recipe): the loopback SMTP sink of mail_test.cpp
// (tests/integration/smtp_sink.py), `portcullis mail deliver --once`, and
// reading the reset link out of a delivered message.
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
#include <vector>

#include <gtest/gtest.h>

#include "app/crypto/random.h"

namespace portcullis::testing::recovery_mail {

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

// The SMTP server on loopback; its own PID only is stopped.
class SmtpSink {
 public:
  SmtpSink() : port_(unused_port()) {
    dir_ = env_of("PORTCULLIS_TEST_DIR") + "/smtp-" + random_hex(4);
    std::filesystem::create_directories(dir_);
    std::string script = env_of("PORTCULLIS_TEST_SOURCE_DIR") + "/tests/integration/smtp_sink.py";
    std::string out = shell_output("/usr/bin/python3 " + script + " " + std::to_string(port_) +
                                   " " + dir_ + " >" + dir_ + ".log 2>&1 & echo $!");
    pid_ = std::atoi(out.c_str());
    for (int i = 0; i < 100 && !port_open(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(port_open(port_)) << read_all(dir_ + ".log");
  }
  ~SmtpSink() {
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
  }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  // `portcullis mail deliver --once` into this sink; its output.
  std::string deliver_once() const {
    return shell_output("env PORTCULLIS_SMTP_URL=smtp://127.0.0.1:" + std::to_string(port_) +
                        " PORTCULLIS_SMTP_ALLOW_PLAIN_LOOPBACK=1"
                        " PORTCULLIS_MAIL_FROM=no-reply@portcullis.test"
                        " PORTCULLIS_PUBLIC_BASE_URL=https://app.portcullis.test " +
                        env_of("PORTCULLIS_TEST_BIN") + " mail deliver --once --env-file " +
                        env_of("PORTCULLIS_TEST_ENV_FILE") + " 2>&1");
  }

  // The messages whose envelope recipient is `address`.
  std::vector<std::string> messages_to(const std::string& address) const {
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

 private:
  int port_;
  int pid_ = 0;
  std::string dir_;
};

// Quoted-printable (RFC 2045 §6.7) decoded: soft line breaks joined, =XX read.
inline std::string qp_decode(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out.push_back(in[i]);
    } else if (in.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;
    } else if (i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) != 0 &&
               std::isxdigit(static_cast<unsigned char>(in[i + 2])) != 0) {
      out.push_back(static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back('=');  // not an escape (a header's "charset=utf-8")
    }
  }
  return out;
}

// The token of the (first) reset link in a message: "" when there is none.
inline std::string reset_token_in(const std::string& message) {
  const std::string text = qp_decode(message);
  const std::string marker = "/#/reset?token=";
  size_t at = text.find(marker);
  if (at == std::string::npos) {
    return "";
  }
  size_t start = at + marker.size();
  size_t end = start;
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) != 0 ||
                               text[end] == '-' || text[end] == '_')) {
    ++end;
  }
  return text.substr(start, end - start);
}

// The reset messages among `messages`.
inline std::vector<std::string> reset_mails(const std::vector<std::string>& messages) {
  std::vector<std::string> out;
  for (const std::string& m : messages) {
    if (m.find("\r\nSubject: Reset your portcullis password\r\n") != std::string::npos) {
      out.push_back(m);
    }
  }
  return out;
}

}  // namespace portcullis::testing::recovery_mail
