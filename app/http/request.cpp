#include "app/http/request.h"

#include "app/crypto/random.h"

namespace portcullis {

std::string Request::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> Request::query_param(const std::string& name) const {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) {
      amp = query.size();
    }
    std::string pair = query.substr(pos, amp - pos);
    size_t eq = pair.find('=');
    std::string key = url_decode(pair.substr(0, eq));
    if (key == name) {
      return eq == std::string::npos ? std::string() : url_decode(pair.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return std::nullopt;
}

std::map<std::string, std::string> parse_cookies(const std::string& header) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t semi = header.find(';', pos);
    if (semi == std::string::npos) {
      semi = header.size();
    }
    std::string part = header.substr(pos, semi - pos);
    size_t b = part.find_first_not_of(' ');
    size_t eq = part.find('=');
    if (b != std::string::npos && eq != std::string::npos && eq > b) {
      std::string name = part.substr(b, eq - b);
      while (!name.empty() && name.back() == ' ') {
        name.pop_back();
      }
      std::string value = part.substr(eq + 1);
      while (!value.empty() && value.back() == ' ') {
        value.pop_back();
      }
      out.emplace(name, value);  // first occurrence wins
    }
    pos = semi + 1;
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}
}  // namespace

std::string url_decode(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else {
        out.push_back('%');
      }
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::string sanitize_request_id(const std::string& from_nginx) {
  if (!from_nginx.empty() && from_nginx.size() <= 64) {
    bool ok = true;
    for (char c : from_nginx) {
      bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_';
      if (!allowed) {
        ok = false;
        break;
      }
    }
    if (ok) {
      return from_nginx;
    }
  }
  return random_hex(16);
}

}  // namespace portcullis
