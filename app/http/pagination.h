// Keyset pagination (DESIGN §8, TEN-6): ?limit= (default 20, 1–100, anything
// else is 400) and an opaque ?cursor=. The cursor names the last id of the
// previous page and carries an HMAC over that id and the list's scope (the
// tenant, the list, and anything else that selects rows), under the "cursor"
// purpose key derived from PORTCULLIS_SECRET_KEY once per worker
// (WorkerKeys::cursor_key). A tampered cursor, or one from another tenant or
// list, is 400 invalid_cursor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "app/crypto/worker_keys.h"
#include "app/http/request.h"
#include "app/http/response.h"

namespace portcullis {

inline constexpr int kDefaultPageLimit = 20;
inline constexpr int kMaxPageLimit = 100;

struct PageRequest {
  int limit = kDefaultPageLimit;
  std::string after_id;  // empty on the first page
};

// Throws ApiError 400 (validation_failed naming `limit`, or invalid_cursor).
PageRequest parse_page(const Request& request, const WorkerKeys& keys, const std::string& scope);
// The same from values read elsewhere (a JSON body): limit as its decimal
// text, nullopt when absent.
PageRequest parse_page_values(const std::optional<std::string>& limit,
                              const std::optional<std::string>& cursor,
                              const WorkerKeys& keys,
                              const std::string& scope);

std::string make_cursor(const std::string& last_id,
                        const WorkerKeys& keys,
                        const std::string& scope);

// {"limit":…, "next_cursor":…|null, "has_more":…}
rapidjson::Value page_json(const PageRequest& page,
                           const std::string& next_cursor,
                           bool has_more,
                           rapidjson::Document::AllocatorType& allocator);

// Answers one keyset page: `rows` holds up to limit + 1 rows, newest first
// (the extra row only says there is more); each row has an `id` and becomes
// JSON through `to_json(row, allocator)`. The next cursor names the last row
// shown, bound to `scope`.
template <typename Row, typename ToJson>
Response page_response(std::vector<Row>& rows,
                       const PageRequest& page,
                       const WorkerKeys& keys,
                       const std::string& scope,
                       ToJson&& to_json) {
  bool has_more = rows.size() > static_cast<size_t>(page.limit);
  if (has_more) {
    rows.resize(static_cast<size_t>(page.limit));
  }
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value data(rapidjson::kArrayType);
  for (const Row& row : rows) {
    data.PushBack(to_json(row, a), a);
  }
  d.AddMember("data", data, a);
  std::string next = has_more ? make_cursor(rows.back().id, keys, scope) : "";
  d.AddMember("page", page_json(page, next, has_more, a), a);
  return json_ok(d);
}

}  // namespace portcullis
