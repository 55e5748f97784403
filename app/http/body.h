// Reading a JSON request body against an allow-list of fields (DESIGN §8,
// TEN-7): a body that is not an object, a field that is not allowed (such as
// tenant_id, id or role where they are not expected) or a value of the
// wrong type is 400 validation_failed naming the field, and nothing is
// changed.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>

#include "app/http/api_error.h"
#include "app/http/request.h"
#include "app/text/limits.h"
#include "app/text/text.h"

namespace portcullis {

class JsonBody {
 public:
  // Throws ApiError 400 for a missing/non-object body or an unknown field.
  JsonBody(const Request& request, std::initializer_list<const char*> allowed);

  // The string value of `name`, or nullopt when absent. A present non-string
  // value records a field error.
  std::optional<std::string> string(const char* name);
  // A required string; records "is required" when absent, null or empty.
  std::string required_string(const char* name);
  std::optional<bool> boolean(const char* name);
  // A required name (tenant, display, context): trimmed, 1..max_code_points,
  // no control characters. Records the field error; returns the trimmed value.
  std::string name(const char* field, size_t max_code_points = kMaxNameCodePoints);
  bool has(const char* name) const;

  // Records a field error (thrown by finish()). Checks made after reading
  // the fields (password policy, e-mail syntax, a token's lookup) record
  // here too, so one answer holds every field error (issue 12 item 6).
  void fail(const std::string& name, const std::string& message) {
    errors_[name] = message;
    coded_.erase(name);
  }
  // Records a field error that has a code of its own (the password block
  // list: password_blocklisted, with `sentence` as the message). finish()
  // answers with that code when every recorded error shares it, and with
  // validation_failed holding them all otherwise.
  void fail_with_code(const std::string& name,
                      const std::string& message,
                      const std::string& code,
                      const std::string& sentence);
  bool ok() const { return errors_.empty(); }
  bool failed(const std::string& name) const { return errors_.count(name) != 0; }
  // Throws 400 with every recorded field error (see fail_with_code()).
  void finish() const;

 private:
  const rapidjson::Value* value_ = nullptr;
  std::map<std::string, std::string> errors_;
  // Field → (code, sentence) for errors recorded by fail_with_code().
  std::map<std::string, std::pair<std::string, std::string>> coded_;
};

}  // namespace portcullis
