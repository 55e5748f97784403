#include "app/http/body.h"

namespace portcullis {

JsonBody::JsonBody(const Request& request, std::initializer_list<const char*> allowed) {
  if (!request.json || !request.json->IsObject()) {
    throw ApiError::bad_request("validation_failed", "The request body must be a JSON object.");
  }
  value_ = &*request.json;
  for (auto it = value_->MemberBegin(); it != value_->MemberEnd(); ++it) {
    // #9 item 11: compared with their lengths, so "title\u0000" is not "title".
    std::string name(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (const char* a : allowed) {
      known = known || name == a;
    }
    if (!known) {
      // The field name is echoed only when it is short and printable.
      if (name.size() > 64 || has_control_chars(name)) {
        name = "body";
      }
      errors_[name] = "is not an accepted field";
    }
  }
  finish();
}

bool JsonBody::has(const char* name) const { return value_->HasMember(name); }

std::optional<std::string> JsonBody::string(const char* name) {
  auto it = value_->FindMember(name);
  if (it == value_->MemberEnd() || it->value.IsNull()) {
    return std::nullopt;
  }
  if (!it->value.IsString()) {
    fail(name, "must be a string");
    return std::nullopt;
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string JsonBody::required_string(const char* name) {
  auto it = value_->FindMember(name);
  // #9 item 10: null is no value, so it fails like an absent or empty one.
  if (it == value_->MemberEnd() || it->value.IsNull()) {
    fail(name, "is required");
    return "";
  }
  std::optional<std::string> v = string(name);
  if (!v) {
    return "";  // not a string: string() recorded it
  }
  if (v->empty()) {
    fail(name, "is required");
  }
  return *v;
}

std::string JsonBody::name(const char* field, size_t max_code_points) {
  std::optional<std::string> raw = string(field);
  std::string v = trim_ascii(raw.value_or(""));
  if (errors_.count(field) != 0) {
    return v;  // already refused (not a string)
  }
  if (v.empty()) {
    fail(field, "is required");
  } else if (code_points(v) > max_code_points) {
    fail(field, "must be at most " + std::to_string(max_code_points) + " characters");
  } else if (has_control_chars(v)) {
    fail(field, "must not contain control characters");
  }
  return v;
}

std::optional<bool> JsonBody::boolean(const char* name) {
  auto it = value_->FindMember(name);
  if (it == value_->MemberEnd() || it->value.IsNull()) {
    return std::nullopt;
  }
  if (!it->value.IsBool()) {
    fail(name, "must be true or false");
    return std::nullopt;
  }
  return it->value.GetBool();
}

void JsonBody::fail_with_code(const std::string& name,
                              const std::string& message,
                              const std::string& code,
                              const std::string& sentence) {
  errors_[name] = message;
  coded_[name] = {code, sentence};
}

void JsonBody::finish() const {
  if (errors_.empty()) {
    return;
  }
  // One code of its own shared by every error: that code; else the lot as
  // validation_failed.
  bool one_code = coded_.size() == errors_.size();
  for (const auto& [name, coded] : coded_) {
    one_code = one_code && coded.first == coded_.begin()->second.first;
  }
  ApiError e = one_code ? ApiError{400, coded_.begin()->second.first, coded_.begin()->second.second}
                        : ApiError::validation_failed();
  for (const auto& [name, message] : errors_) {
    e.with_field(name, message);
  }
  throw e;
}

}  // namespace portcullis
