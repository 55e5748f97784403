// Request: what a worker knows about one HTTP request, built from the
// FastCGI params nginx sends plus the body. Plain data; no behaviour that
// decides anything about security lives here.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <rapidjson/document.h>

namespace portcullis {

struct Request {
  std::string method;                          // upper-case, e.g. "GET"
  std::string path;                            // decoded-free path part of REQUEST_URI, no query
  std::string query;                           // raw query string without '?'
  std::map<std::string, std::string> headers;  // lower-case names
  std::map<std::string, std::string> cookies;
  std::string client_ip;        // REMOTE_ADDR as nginx sets it
  std::string request_id;       // nginx $request_id, or generated
  std::string body;             // raw body (at most MAX_BODY_BYTES)
  bool body_too_large = false;  // set by the worker when the body exceeded the limit
  // Filled by the JSON guard when the body is non-empty.
  std::optional<rapidjson::Document> json;
  // Filled by the router: values of `{name}` segments.
  std::map<std::string, std::string> path_params;

  // Header value by lower-case name, or "" when absent.
  std::string header(const std::string& lower_name) const;
  // First value of a query parameter (percent-decoded), if present.
  std::optional<std::string> query_param(const std::string& name) const;
};

// Parses a `Cookie:` header value into name → value (first occurrence wins).
std::map<std::string, std::string> parse_cookies(const std::string& header);

// Decodes %XX and '+' (query strings). Invalid escapes are kept literally.
std::string url_decode(const std::string& in);

// A request id from nginx is accepted only if it is 1–64 chars of [A-Za-z0-9-_];
// otherwise a fresh random one is generated.
std::string sanitize_request_id(const std::string& from_nginx);

}  // namespace portcullis
