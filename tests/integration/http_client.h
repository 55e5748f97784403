// A small libcurl client for the integration tests: they speak HTTP to nginx
// like a browser or curl would.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace portcullis::testing {

struct HttpResponse {
  long status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string error;                                // curl error, if any

  std::string header(const std::string& lower_name) const;
  bool has_header(const std::string& lower_name) const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string path;
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  long timeout_ms = 15000;
  std::string source_ip;  // local address to connect from (e.g. "127.0.1.1"); "" = any
};

// Base URL from PORTCULLIS_TEST_BASE_URL, e.g. http://127.0.0.1:18080
std::string base_url();
HttpResponse send(const HttpRequest& request);
HttpResponse get(const std::string& path);
HttpResponse post_json(const std::string& path, const std::string& body);

}  // namespace portcullis::testing
