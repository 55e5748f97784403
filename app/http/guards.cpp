#include "app/http/guards.h"

#include <algorithm>
#include <cctype>

#include "app/http/api_error.h"
#include "app/http/json.h"

namespace portcullis {
namespace {
bool is_printable_name(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
}
}  // namespace

void guard_body_size(const Request& request) {
  if (request.body_too_large) {
    throw ApiError::payload_too_large();
  }
}

void guard_content_type(const Request& request) {
  if (request.body.empty()) {
    return;
  }
  std::string type = request.header("content-type");
  std::string media = type.substr(0, type.find(';'));
  media.erase(
      std::remove_if(media.begin(), media.end(), [](unsigned char c) { return std::isspace(c); }),
      media.end());
  std::transform(media.begin(), media.end(), media.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (media != "application/json") {
    throw ApiError::unsupported_media_type();
  }
}

void guard_json(Request& request) {
  if (request.body.empty()) {
    return;
  }
  rapidjson::Document doc;
  std::string field;
  switch (parse_json_strict(request.body, &doc, &field)) {
    case JsonParseResult::kOk:
      request.json.emplace();
      request.json->Swap(doc);
      return;
    case JsonParseResult::kTooDeep:
      throw ApiError::bad_request("invalid_json", "The request body nests deeper than 32 levels.");
    case JsonParseResult::kDuplicateKey:
      throw ApiError::bad_request("invalid_json", "The request body repeats an object key.");
    case JsonParseResult::kBadString:
      // #9 item 5: e.g. a lone surrogate escape; named so the client can fix it.
      throw ApiError::validation_failed().with_field(
          field.size() <= 64 && is_printable_name(field) ? field : "body",
          "must be valid UTF-8 text (no unpaired surrogates)");
    case JsonParseResult::kBadKey:
      // #9 item 11: a field name with a control character (an escaped NUL
      // would otherwise look like an allowed name to a C-string compare).
      throw ApiError::validation_failed().with_field(
          "body", "field names must not contain control characters");
    case JsonParseResult::kSyntax:
      break;
  }
  throw ApiError::invalid_json();
}

void run_guards(Request& request) {
  guard_body_size(request);
  guard_content_type(request);
  guard_json(request);
}

}  // namespace portcullis
