// Memories: notes (title, content, tags) in the caller's tenant, optionally
// in a context. Content is field-encrypted at rest (AES-256-GCM, AAD bound to
// table, column, tenant and row), so a ciphertext moved to another row or
// tenant fails to decrypt.
// Every access by id and every change is audited in the transaction that
// makes it (memory.created/read/updated/deleted): ids and the names of the
// changed fields only, never a title, content or tag.
// Search (POST, so the words never reach a URL or nginx's access log) runs
// over the blind index (app/crypto/blind_index.h, memory_terms): the words
// of a memory's title and content are hashed under the tenant's search key
// and written in the same transaction as the memory itself. Search words are
// never logged or audited.
// Lists and search answer a cheap total in "page": "total" (exact up to
// 1 000) and "total_is_lower_bound" (true when there are more than 1 000;
// total is then 1 000).
#include "app/store/memories.h"

#include <algorithm>
#include <set>

#include <rapidjson/document.h>

#include "app/auth/account.h"
#include "app/crypto/aead.h"
#include "app/crypto/blind_index.h"
#include "app/crypto/random.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/context.h"
#include "app/http/pagination.h"
#include "app/http/router.h"
#include "app/log/integrity.h"
#include "app/store/contexts.h"
#include "app/text/normalise.h"

namespace portcullis {
namespace {
Response list_memories(Context& ctx);
Response create_memory(Context& ctx);
Response search_memories(Context& ctx);
Response get_memory(Context& ctx);
Response patch_memory(Context& ctx);
Response delete_memory(Context& ctx);
}  // namespace

void register_memories_routes(Router& router) {
  router.add("GET", "/api/v1/memories", Access::kAuthenticated, list_memories);
  router.add("POST", "/api/v1/memories", Access::kAuthenticated, create_memory);
  router.add("POST", "/api/v1/memories/search", Access::kAuthenticated, search_memories);
  router.add("GET", "/api/v1/memories/{id}", Access::kAuthenticated, get_memory);
  router.add("PATCH", "/api/v1/memories/{id}", Access::kAuthenticated, patch_memory);
  router.add("DELETE", "/api/v1/memories/{id}", Access::kAuthenticated, delete_memory);
}

namespace {

// The limits GET /api/v1/policy serves too (app/text/limits.h).
constexpr size_t kMaxTitle = kMaxMemoryTitleCodePoints;
constexpr size_t kMaxContentBytes = kMaxMemoryContentBytes;
constexpr size_t kMaxTags = kMaxMemoryTags;
constexpr size_t kMaxTagLength = kMaxMemoryTagCodePoints;
constexpr const char* kSentinel = "ffffffff-ffff-ffff-ffff-ffffffffffff";

using store::memories::Memory;

std::string content_aad(const std::string& tenant_id, const std::string& id) {
  return field_aad("memories", "content_enc", tenant_id, id);
}

rapidjson::Value memory_json(const Memory& r,
                             const std::string& tenant_id,
                             const FieldCipher& cipher,
                             rapidjson::Document::AllocatorType& a) {
  auto str = [&](const std::string& s) {
    return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
  };
  rapidjson::Value v(rapidjson::kObjectType);
  v.AddMember("id", str(r.id), a);
  if (r.context_id) {
    v.AddMember("context_id", str(*r.context_id), a);
  } else {
    v.AddMember("context_id", rapidjson::Value(rapidjson::kNullType), a);
  }
  v.AddMember("title", str(r.title), a);
  std::string content = decrypt_or_throw(cipher, r.content_enc, content_aad(tenant_id, r.id),
                                         "memories.content_enc " + r.id);
  v.AddMember("content", str(content), a);
  rapidjson::Document tags;
  tags.Parse(r.tags_json.c_str());
  rapidjson::Value tag_array(rapidjson::kArrayType);
  if (tags.IsArray()) {
    for (const auto& t : tags.GetArray()) {
      if (t.IsString()) {
        tag_array.PushBack(rapidjson::Value(t.GetString(), a), a);
      }
    }
  }
  v.AddMember("tags", tag_array, a);
  if (r.created_by) {
    v.AddMember("created_by", str(*r.created_by), a);
  } else {
    v.AddMember("created_by", rapidjson::Value(rapidjson::kNullType), a);
  }
  v.AddMember("created_at", str(format_time_ms(parse_time_ms(r.created_at).value_or(0))), a);
  v.AddMember("updated_at", str(format_time_ms(parse_time_ms(r.updated_at).value_or(0))), a);
  return v;
}

// The validated fields of a create or update. Absent fields stay nullopt.
struct MemoryInput {
  std::optional<std::string> title;
  std::optional<std::string> content;
  bool context_present = false;
  std::optional<std::string> context_id;  // nullopt with context_present = set to none
  std::optional<std::vector<std::string>> tags;
};

MemoryInput read_input(const Request& request, bool create) {
  JsonBody body(request, {"title", "content", "context_id", "tags"});
  MemoryInput in;
  if (create || body.has("title")) {
    std::string title = body.required_string("title");
    if (!title.empty()) {
      if (code_points(title) > kMaxTitle) {
        body.fail("title", "must be at most 200 characters");
      } else if (has_control_chars(title)) {
        body.fail("title", "must not contain control characters");
      }
    }
    in.title = title;
  }
  if (body.has("content")) {
    std::optional<std::string> content = body.string("content");
    if (content && content->size() > kMaxContentBytes) {
      body.fail("content", "must be at most 32 KiB");
    }
    in.content = content.value_or("");
  } else if (create) {
    in.content = "";
  }
  if (body.has("context_id")) {
    in.context_present = true;
    in.context_id = body.string("context_id");
    // Not a UUID names no context: said with the other field errors.
    if (in.context_id && !is_uuid(*in.context_id)) {
      body.fail("context_id", "does not exist");
    }
  }
  const rapidjson::Value& doc = *request.json;
  if (doc.HasMember("tags")) {
    const rapidjson::Value& tags = doc["tags"];
    std::vector<std::string> out;
    if (!tags.IsArray()) {
      body.fail("tags", "must be an array of strings");
    } else if (tags.Size() > kMaxTags) {
      body.fail("tags", "must hold at most 20 tags");
    } else {
      std::set<std::string> seen;  // folded: "Work" and "work" are one tag
      for (const auto& t : tags.GetArray()) {
        if (!t.IsString()) {
          body.fail("tags", "must be an array of strings");
          break;
        }
        std::string tag = trim_ascii(std::string(t.GetString(), t.GetStringLength()));
        size_t n = code_points(tag);
        if (n == 0 || n > kMaxTagLength || has_control_chars(tag)) {
          body.fail("tags", "each tag must be 1 to 40 characters");
          break;
        }
        const std::string key = fold_text(tag);
        if (seen.insert(key.empty() ? tag : key).second) {
          out.push_back(tag);
        }
      }
    }
    in.tags = out;
  }
  body.finish();
  return in;
}

std::string tags_json(const std::vector<std::string>& tags) {
  rapidjson::Document d(rapidjson::kArrayType);
  for (const std::string& t : tags) {
    d.PushBack(rapidjson::Value(t.c_str(), d.GetAllocator()), d.GetAllocator());
  }
  return to_json_string(d);
}

// The audit record of one memory action. `fields` names what the request
// set (never its values).
void audit_memory(const Context& ctx,
                  TenantTx& tx,
                  const std::string& event,
                  const std::string& id,
                  const std::vector<std::string>& fields = {}) {
  AuditEvent ev = ctx.audit_event(event, "success");
  ev.target_type = "memory";
  ev.target_id = id;
  if (!fields.empty()) {
    std::string names;
    for (const std::string& f : fields) {
      names += (names.empty() ? "" : ",") + f;
    }
    ev.details = {{"fields", names}};
  }
  ctx.record(tx, ev);
}

// The names of the fields a create or update sets.
std::vector<std::string> field_names(const MemoryInput& in) {
  std::vector<std::string> out;
  if (in.title) {
    out.emplace_back("title");
  }
  if (in.content) {
    out.emplace_back("content");
  }
  if (in.context_present) {
    out.emplace_back("context_id");
  }
  if (in.tags) {
    out.emplace_back("tags");
  }
  return out;
}

Response one_memory(const Memory& r, const Context& ctx, int status = 200) {
  const FieldCipher& cipher = ctx.keys.field_cipher();
  rapidjson::Document d(rapidjson::kObjectType);
  d.CopyFrom(memory_json(r, ctx.principal->tenant_id, cipher, d.GetAllocator()), d.GetAllocator());
  return json_ok(d, status);
}

// A first page that is not full holds every match: its size is the total,
// and no count is needed.
bool first_page_is_all(const PageRequest& page, const std::vector<Memory>& rows) {
  return page.after_id.empty() && rows.size() <= static_cast<size_t>(page.limit);
}

// One page of memories (rows: up to limit + 1, newest first) with the
// list's cheap total: {"data":[…],"page":{"limit","next_cursor","has_more",
// "total","total_is_lower_bound"}}. `counted` is at most kCountCap + 1;
// `counted_part`: the count read only part of the candidates (a search over
// common words), so it is a lower bound too.
Response memories_page(std::vector<Memory>& rows,
                       const PageRequest& page,
                       const std::string& scope,
                       int counted,
                       bool counted_part,
                       const Context& ctx) {
  const bool has_more = rows.size() > static_cast<size_t>(page.limit);
  if (has_more) {
    rows.resize(static_cast<size_t>(page.limit));
  }
  const FieldCipher& cipher = ctx.keys.field_cipher();
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  rapidjson::Value data(rapidjson::kArrayType);
  for (const Memory& row : rows) {
    data.PushBack(memory_json(row, ctx.principal->tenant_id, cipher, a), a);
  }
  d.AddMember("data", data, a);
  const std::string next = has_more ? make_cursor(rows.back().id, ctx.keys, scope) : "";
  rapidjson::Value p = page_json(page, next, has_more, a);
  const bool capped = counted > store::memories::kCountCap;
  const bool lower_bound = capped || counted_part;
  p.AddMember("total", capped ? store::memories::kCountCap : counted, a);
  p.AddMember("total_is_lower_bound", lower_bound, a);
  d.AddMember("page", p, a);
  return json_ok(d);
}

Response list_memories(Context& ctx) {
  store::memories::Filter filter;
  filter.context_id = ctx.request.query_param("context_id").value_or("");
  filter.tag = ctx.request.query_param("tag").value_or("");
  std::string scope =
      ctx.principal->tenant_id + "|memories|" + filter.context_id + "|" + fold_text(filter.tag);
  PageRequest page = parse_page(ctx.request, ctx.keys, scope);
  TenantTx tx(ctx.db, ctx.principal->tenant_id, TxKind::kRead);
  if (!filter.context_id.empty() && !store::contexts::exists(tx, filter.context_id)) {
    throw ApiError::not_found();  // another tenant's context is "not found"
  }
  std::string before = page.after_id.empty() ? kSentinel : page.after_id;
  std::vector<Memory> rows = store::memories::page(tx, filter, before, page.limit + 1);
  const int total = first_page_is_all(page, rows) ? static_cast<int>(rows.size())
                                                  : store::memories::count(tx, filter);
  tx.commit();
  return memories_page(rows, page, scope, total, false, ctx);
}

// Search: {q, context_id, tag, limit, cursor}. All words of q must match
// (the last may be a prefix, app/crypto/blind_index.h), within the context
// and tag when given; newest first, keyset pages like the list's.
Response search_memories(Context& ctx) {
  JsonBody body(ctx.request, {"q", "context_id", "tag", "limit", "cursor"});
  const std::string q = body.required_string("q");
  store::memories::Filter filter;
  filter.context_id = body.string("context_id").value_or("");
  if (!filter.context_id.empty() && !is_uuid(filter.context_id)) {
    body.fail("context_id", "must be a context id");
  }
  filter.tag = body.string("tag").value_or("");
  if (code_points(filter.tag) > kMaxTagLength) {
    body.fail("tag", "must be at most 40 characters");
  }
  std::optional<std::string> limit;
  const rapidjson::Value& doc = *ctx.request.json;
  if (doc.HasMember("limit")) {
    if (doc["limit"].IsInt()) {
      limit = std::to_string(doc["limit"].GetInt());
    } else {
      body.fail("limit", "must be an integer from 1 to 100");
    }
  }
  const std::optional<std::string> cursor = body.string("cursor");
  const std::string key = ctx.keys.search_key(ctx.principal->tenant_id);
  SearchTerms terms;
  if (!q.empty()) {
    terms = query_term_hashes(key, q);
    switch (terms.problem) {
      case QueryProblem::kNone:
        break;
      case QueryProblem::kNoWords:
        body.fail("q", "must contain a letter or digit");
        break;
      case QueryProblem::kTooManyWords:
        body.fail("q", "must have at most 8 words");
        break;
      case QueryProblem::kTooLong:
        body.fail("q", "must be at most 200 characters");
        break;
    }
  }
  body.finish();
  // The cursor is bound to the tenant, the filter and the query's term hashes
  // (sorted; never the words themselves).
  std::string scope = ctx.principal->tenant_id + "|memories.search|" + filter.context_id + "|" +
                      fold_text(filter.tag);
  for (const std::string& h : terms.hashes) {
    scope += "|" + h;
  }
  PageRequest page = parse_page_values(limit, cursor, ctx.keys, scope);
  TenantTx tx(ctx.db, ctx.principal->tenant_id, TxKind::kRead);
  if (!filter.context_id.empty() && !store::contexts::exists(tx, filter.context_id)) {
    throw ApiError::not_found();  // another tenant's context is "not found"
  }
  store::memories::rarest_first(tx, terms.hashes);
  std::string before = page.after_id.empty() ? kSentinel : page.after_id;
  std::vector<Memory> rows =
      store::memories::search_page(tx, terms.hashes, filter, before, page.limit + 1);
  store::memories::Count total{static_cast<int>(rows.size()), false};
  if (!first_page_is_all(page, rows)) {
    total = store::memories::search_count(tx, terms.hashes, filter);
  }
  tx.commit();
  return memories_page(rows, page, scope, total.counted, total.window_full, ctx);
}

Response create_memory(Context& ctx) {
  MemoryInput in = read_input(ctx.request, true);
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  if (in.context_id && !store::contexts::exists(tx, *in.context_id)) {
    throw ApiError::validation_failed().with_field("context_id", "does not exist");
  }
  Memory r;
  r.id = uuid_v7();
  r.title = *in.title;
  r.context_id = in.context_id;
  r.created_by = ctx.principal->user_id;
  r.created_at = format_time_ms(now_ms());
  r.updated_at = r.created_at;
  std::vector<std::string> tags = in.tags.value_or(std::vector<std::string>{});
  r.tags_json = tags_json(tags);
  r.content_enc =
      ctx.keys.field_cipher().encrypt(in.content.value_or(""), content_aad(tx.tenant_id(), r.id));
  store::memories::insert(tx, r);
  store::memories::add_tags(tx, r.id, tags);
  store::memories::add_terms(
      tx, r.id,
      memory_term_hashes(ctx.keys.search_key(tx.tenant_id()), r.title, in.content.value_or("")));
  audit_memory(ctx, tx, "memory.created", r.id, field_names(in));
  tx.commit();
  return one_memory(r, ctx, 201);
}

Response get_memory(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  std::optional<Memory> r = store::memories::find(tx, ctx.path_param("id"));
  if (!r) {
    throw ApiError::not_found();  // another tenant's memory is "not found", never 403
  }
  audit_memory(ctx, tx, "memory.read", r->id);
  tx.commit();
  return one_memory(*r, ctx);
}

Response patch_memory(Context& ctx) {
  MemoryInput in = read_input(ctx.request, false);
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  std::optional<Memory> r = store::memories::find(tx, ctx.path_param("id"));
  if (!r) {
    throw ApiError::not_found();
  }
  if (in.context_id && !store::contexts::exists(tx, *in.context_id)) {
    throw ApiError::validation_failed().with_field("context_id", "does not exist");
  }
  if (in.title) {
    r->title = *in.title;
  }
  if (in.context_present) {
    r->context_id = in.context_id;
  }
  if (in.content) {
    r->content_enc =
        ctx.keys.field_cipher().encrypt(*in.content, content_aad(tx.tenant_id(), r->id));
  }
  if (in.tags) {
    r->tags_json = tags_json(*in.tags);
  }
  r->updated_at = format_time_ms(now_ms());
  // The row first: its lock orders this change against another writer of
  // the same memory (and `keys reindex`) before the tag and index rows.
  store::memories::update(tx, *r);
  if (in.tags) {
    store::memories::replace_tags(tx, r->id, *in.tags);
  }
  if (in.title || in.content) {  // the blind index follows title and content
    const std::string content =
        in.content
            ? *in.content
            : decrypt_or_throw(ctx.keys.field_cipher(), r->content_enc,
                               content_aad(tx.tenant_id(), r->id), "memories.content_enc " + r->id);
    store::memories::replace_terms(
        tx, r->id, memory_term_hashes(ctx.keys.search_key(tx.tenant_id()), r->title, content));
  }
  audit_memory(ctx, tx, "memory.updated", r->id, field_names(in));
  tx.commit();
  return one_memory(*r, ctx);
}

Response delete_memory(Context& ctx) {
  TenantTx tx(ctx.db, ctx.principal->tenant_id);
  const std::string& id = ctx.path_param("id");  // a UUID: dispatch checked
  if (!store::memories::remove(tx, id)) {
    throw ApiError::not_found();
  }
  audit_memory(ctx, tx, "memory.deleted", id);
  tx.commit();
  rapidjson::Document d(rapidjson::kObjectType);
  d.AddMember("deleted", true, d.GetAllocator());
  return json_ok(d);
}

}  // namespace
}  // namespace portcullis
