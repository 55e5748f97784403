// The numbers the validators check, served so the SPA checks the same
// before sending (issue 12 item 6): GET /api/v1/policy, public. Every number
// comes from the constant its validator uses (app/auth/passwords.h,
// app/text/limits.h); none is written twice.
#include <rapidjson/document.h>

#include "app/auth/passwords.h"
#include "app/http/context.h"
#include "app/http/router.h"
#include "app/text/limits.h"

namespace portcullis {
namespace {
Response get_policy(Context& ctx);
}  // namespace

void register_policy_routes(Router& router) {
  router.add("GET", "/api/v1/policy", Access::kPublic, get_policy);
}

namespace {

// Five minutes: the numbers change only with a new release.
constexpr const char* kCacheControl = "public, max-age=300";

Response get_policy(Context& /*ctx*/) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  auto number = [](size_t n) { return rapidjson::Value(static_cast<uint64_t>(n)); };

  // The single-factor minimum: a tenant that requires MFA allows shorter
  // ones (kMinPasswordCodePointsWithMfa), which the SPA need not know to
  // stay within the rule.
  rapidjson::Value password(rapidjson::kObjectType);
  password.AddMember("min_length", number(kMinPasswordCodePoints), a);
  password.AddMember("max_length", number(kMaxPasswordCodePoints), a);
  d.AddMember("password", password, a);

  rapidjson::Value email(rapidjson::kObjectType);
  email.AddMember("max_length", number(kMaxEmailBytes), a);
  d.AddMember("email", email, a);

  rapidjson::Value display_name(rapidjson::kObjectType);
  display_name.AddMember("max_length", number(kMaxNameCodePoints), a);
  d.AddMember("display_name", display_name, a);

  rapidjson::Value tenant_name(rapidjson::kObjectType);
  tenant_name.AddMember("max_length", number(kMaxNameCodePoints), a);
  d.AddMember("tenant_name", tenant_name, a);

  rapidjson::Value memory(rapidjson::kObjectType);
  memory.AddMember("title_max_length", number(kMaxMemoryTitleCodePoints), a);
  memory.AddMember("content_max_bytes", number(kMaxMemoryContentBytes), a);
  memory.AddMember("max_tags", number(kMaxMemoryTags), a);
  memory.AddMember("tag_max_length", number(kMaxMemoryTagCodePoints), a);
  d.AddMember("memory", memory, a);

  rapidjson::Value context(rapidjson::kObjectType);
  context.AddMember("name_max_length", number(kMaxNameCodePoints), a);
  d.AddMember("context", context, a);

  Response r = json_ok(d);
  // Public, the same for everyone, no cookie: a cache may keep it
  // (app/http/dispatch.cpp keeps no-store for everything else).
  r.set_header("Cache-Control", kCacheControl);
  return r;
}

}  // namespace
}  // namespace portcullis
