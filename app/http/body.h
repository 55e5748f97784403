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
  std::string name(const char* field, size_t max_code_points = 100);
  bool has(const char* name) const;

  // Records a field error (thrown by finish()).
  void fail(const std::string& name, const std::string& message) { errors_[name] = message; }
  bool ok() const { return errors_.empty(); }
  // Throws 400 validation_failed with every recorded field error.
  void finish() const;

 private:
  const rapidjson::Value* value_ = nullptr;
  std::map<std::string, std::string> errors_;
};

}  // namespace portcullis
