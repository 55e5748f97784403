#include "app/http/pagination.h"

#include <cstdlib>

#include "app/crypto/hash.h"
#include "app/crypto/keys.h"
#include "app/crypto/random.h"
#include "app/http/api_error.h"

namespace portcullis {
namespace {

constexpr size_t kMacBytes = 16;

std::string cursor_mac(const std::string& last_id,
                       const WorkerKeys& keys,
                       const std::string& scope) {
  return hmac_sha256(keys.cursor_key(), scope + "|" + last_id).substr(0, kMacBytes);
}

ApiError invalid_cursor() {
  return ApiError::bad_request("invalid_cursor", "The cursor is not valid for this list.");
}

}  // namespace

std::string make_cursor(const std::string& last_id,
                        const WorkerKeys& keys,
                        const std::string& scope) {
  return base64url_encode(last_id + "." + cursor_mac(last_id, keys, scope));
}

PageRequest parse_page(const Request& request, const WorkerKeys& keys, const std::string& scope) {
  return parse_page_values(request.query_param("limit"), request.query_param("cursor"), keys,
                           scope);
}

PageRequest parse_page_values(const std::optional<std::string>& limit,
                              const std::optional<std::string>& cursor,
                              const WorkerKeys& keys,
                              const std::string& scope) {
  PageRequest page;
  if (limit) {
    char* end = nullptr;
    long v = std::strtol(limit->c_str(), &end, 10);
    if (limit->empty() || *end != '\0' || v < 1 || v > kMaxPageLimit) {
      ApiError e = ApiError::validation_failed();
      e.with_field("limit", "must be an integer from 1 to 100");
      throw e;
    }
    page.limit = static_cast<int>(v);
  }
  if (cursor) {
    std::string raw;
    if (cursor->empty() || cursor->size() > 200 || !base64_decode(*cursor, &raw)) {
      throw invalid_cursor();
    }
    if (raw.size() < kMacBytes + 2 || raw[raw.size() - kMacBytes - 1] != '.') {
      throw invalid_cursor();
    }
    size_t dot = raw.size() - kMacBytes - 1;
    std::string id = raw.substr(0, dot);
    if (!constant_time_equals(raw.substr(dot + 1), cursor_mac(id, keys, scope))) {
      throw invalid_cursor();
    }
    page.after_id = id;
  }
  return page;
}

rapidjson::Value page_json(const PageRequest& page,
                           const std::string& next_cursor,
                           bool has_more,
                           rapidjson::Document::AllocatorType& allocator) {
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("limit", page.limit, allocator);
  if (has_more && !next_cursor.empty()) {
    v.AddMember("next_cursor", rapidjson::Value(next_cursor.c_str(), allocator), allocator);
  } else {
    v.AddMember("next_cursor", rapidjson::Value(rapidjson::kNullType), allocator);
  }
  v.AddMember("has_more", has_more, allocator);
  return v;
}

}  // namespace portcullis
