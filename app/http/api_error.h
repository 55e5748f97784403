// ApiError: the only error a client ever sees. Handlers and guards throw it;
// the one error mapper (app/http/dispatch.cpp) turns it into the JSON envelope
// of DESIGN §8. Anything else that escapes a handler becomes a generic 500.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace portcullis {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, std::string message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& code() const { return code_; }
  std::string message() const { return what(); }
  // Field-level validation messages (`"fields":{"email":"…"}`), safe to show.
  const std::map<std::string, std::string>& fields() const { return fields_; }
  // Extra response headers (e.g. `Allow` on 405, `Retry-After` on 429).
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

  ApiError& with_field(const std::string& name, const std::string& message) {
    fields_[name] = message;
    return *this;
  }
  ApiError& with_header(const std::string& name, const std::string& value) {
    headers_.emplace_back(name, value);
    return *this;
  }

  static ApiError bad_request(std::string code, std::string message) {
    return {400, std::move(code), std::move(message)};
  }
  static ApiError invalid_json() {
    return {400, "invalid_json", "The request body is not valid JSON."};
  }
  static ApiError validation_failed() {
    return {400, "validation_failed", "Some fields are invalid."};
  }
  static ApiError unauthenticated() {
    return {401, "unauthenticated", "Authentication is required."};
  }
  static ApiError forbidden() { return {403, "forbidden", "You are not allowed to do this."}; }
  static ApiError not_found() {
    return {404, "not_found", "The requested resource was not found."};
  }
  static ApiError method_not_allowed(const std::string& allow) {
    ApiError e{405, "method_not_allowed", "This method is not allowed on this resource."};
    e.with_header("Allow", allow);
    return e;
  }
  static ApiError conflict(std::string code, std::string message) {
    return {409, std::move(code), std::move(message)};
  }
  static ApiError payload_too_large() {
    return {413, "payload_too_large", "The request body is too large."};
  }
  static ApiError unsupported_media_type() {
    return {415, "unsupported_media_type", "Request bodies must be application/json."};
  }
  // A lockout or throttle of secret checks (DESIGN §7): the sentence says
  // when to try again, rounded up to the minute; Retry-After says it exactly
  // (the envelope has no field for it).
  static ApiError locked_out(int retry_after) {
    int minutes = retry_after <= 0 ? 1 : (retry_after + 59) / 60;
    ApiError e{429, "rate_limited",
               "Too many failed attempts. Try again in " + std::to_string(minutes) +
                   (minutes == 1 ? " minute." : " minutes.")};
    e.with_header("Retry-After", std::to_string(retry_after));
    return e;
  }
  static ApiError database_unavailable() {
    return {503, "database_unavailable",
            "The service is temporarily unavailable. Try again shortly."};
  }
  // The database could not give its lock within the busy timeout (#9 item 3).
  static ApiError database_busy() {
    ApiError e{503, "database_busy", "The service is busy. Try again shortly."};
    e.with_header("Retry-After", "1");
    return e;
  }

 private:
  int status_;
  std::string code_;
  std::map<std::string, std::string> fields_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

}  // namespace portcullis
