#include "app/http/guards.h"

#include <algorithm>
#include <cctype>

#include "app/http/api_error.h"
#include "app/http/json.h"

namespace portcullis {

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
  switch (parse_json_strict(request.body, &doc)) {
    case JsonParseResult::kOk:
      request.json.emplace();
      request.json->Swap(doc);
      return;
    case JsonParseResult::kTooDeep:
      throw ApiError::bad_request("invalid_json", "The request body nests deeper than 32 levels.");
    case JsonParseResult::kDuplicateKey:
      throw ApiError::bad_request("invalid_json", "The request body repeats an object key.");
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
