#include "tests/integration/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace portcullis::testing {
namespace {

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto* headers = static_cast<std::multimap<std::string, std::string>*>(user);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) {
      value.erase(value.begin());
    }
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.pop_back();
    }
    headers->emplace(name, value);
  } else if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (e.g. after 100-continue)
  }
  return size * n;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

bool HttpResponse::has_header(const std::string& lower_name) const {
  return headers.count(lower_name) > 0;
}

std::string base_url() {
  const char* v = std::getenv("PORTCULLIS_TEST_BASE_URL");
  return v == nullptr ? "http://127.0.0.1:8080" : v;
}

HttpResponse send(const HttpRequest& request) {
  HttpResponse out;
  CURL* curl = curl_easy_init();
  std::string url = base_url() + request.path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  }
  curl_slist* list = nullptr;
  for (const std::string& h : request.headers) {
    list = curl_slist_append(list, h.c_str());
  }
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  if (!request.body.empty() || request.method == "POST" || request.method == "PATCH" ||
      request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  std::string interface;
  if (!request.source_ip.empty()) {
    interface = "host!" + request.source_ip;  // an address, never a device name
    curl_easy_setopt(curl, CURLOPT_INTERFACE, interface.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    out.error = curl_easy_strerror(rc);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return out;
}

HttpResponse get(const std::string& path) {
  HttpRequest r;
  r.path = path;
  return send(r);
}

HttpResponse post_json(const std::string& path, const std::string& body) {
  HttpRequest r;
  r.method = "POST";
  r.path = path;
  r.body = body;
  r.headers = {"Content-Type: application/json"};
  return send(r);
}

}  // namespace portcullis::testing
