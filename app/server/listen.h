// The FastCGI listen socket: taken from systemd (socket activation) when
// LISTEN_FDS says so, else opened from --listen unix:PATH | tcp:HOST:PORT.
#pragma once

#include <string>

namespace portcullis {

struct ListenSocket {
  int fd = -1;
  bool from_systemd = false;
  std::string unix_path;  // set when we created a unix socket (removed at exit)
};

// Throws std::runtime_error with a readable message on failure.
ListenSocket open_listen_socket(const std::string& spec);

}  // namespace portcullis
