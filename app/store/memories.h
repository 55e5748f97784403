// The memories store: every statement on memories and their tags. Each
// function takes the request's TenantTx, whose tenant is $1 of every
// statement (app/db/statement.h), so no query here can leave the tenant.
// Content stays as stored (AES-GCM ciphertext); sealing and opening it is the
// caller's (the field cipher lives with the worker).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/db/tenant_tx.h"

namespace portcullis::store::memories {

struct Memory {
  std::string id;
  std::optional<std::string> context_id;
  std::string title;
  std::string content_enc;
  std::string tags_json;  // JSON array text
  std::optional<std::string> created_by;
  std::string created_at;  // as stored; parse_time_ms() reads both backends' forms
  std::string updated_at;
};

// What selects a list's rows; "" = no filter.
struct Filter {
  std::string context_id;
  std::string tag;
};

// Up to `limit` memories with ids below `before_id`, newest first (keyset;
// every variant walks an index, see the EXPLAIN test).
std::vector<Memory> page(TenantTx& tx,
                         const Filter& filter,
                         const std::string& before_id,
                         int limit);
std::optional<Memory> find(TenantTx& tx, const std::string& id);
void insert(TenantTx& tx, const Memory& memory);
// Writes title, context, content, tags and updated_at of memory.id.
void update(TenantTx& tx, const Memory& memory);
// False when there was no such memory in the tenant.
[[nodiscard]] bool remove(TenantTx& tx, const std::string& id);
// Adds the tag index rows of a new memory.
void add_tags(TenantTx& tx, const std::string& memory_id, const std::vector<std::string>& tags);
// The tag index rows of a memory become exactly `tags`.
void replace_tags(TenantTx& tx, const std::string& memory_id, const std::vector<std::string>& tags);

}  // namespace portcullis::store::memories
