#include "app/server/listen.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <systemd/sd-daemon.h>

namespace portcullis {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

ListenSocket open_unix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    throw std::runtime_error("unix socket path too long: " + path);
  }
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) {
    fail("socket");
  }
  ::unlink(path.c_str());  // a stale socket from an earlier run
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // 0660: nginx reaches the socket through the group, nobody else can.
  mode_t old = ::umask(0117);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc < 0) {
    ::close(fd);
    fail("bind " + path);
  }
  if (::listen(fd, 1024) < 0) {
    ::close(fd);
    fail("listen " + path);
  }
  return ListenSocket{fd, false, path};
}

ListenSocket open_tcp(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    throw std::runtime_error("--listen tcp: needs HOST:PORT");
  }
  std::string host = host_port.substr(0, colon);
  std::string port = host_port.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    throw std::runtime_error("cannot resolve listen address " + host_port);
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    fail("socket");
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc = ::bind(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (rc < 0) {
    ::close(fd);
    fail("bind " + host_port);
  }
  if (::listen(fd, 1024) < 0) {
    ::close(fd);
    fail("listen " + host_port);
  }
  return ListenSocket{fd, false, ""};
}

}  // namespace

ListenSocket open_listen_socket(const std::string& spec) {
  int n = sd_listen_fds(1);  // unsets LISTEN_FDS so workers don't see it
  if (n > 1) {
    throw std::runtime_error("systemd passed more than one socket; expected one");
  }
  if (n == 1) {
    return ListenSocket{SD_LISTEN_FDS_START, true, ""};
  }
  if (spec.rfind("unix:", 0) == 0) {
    return open_unix(spec.substr(5));
  }
  if (spec.rfind("tcp:", 0) == 0) {
    return open_tcp(spec.substr(4));
  }
  throw std::runtime_error("--listen must be unix:PATH or tcp:HOST:PORT");
}

}  // namespace portcullis
