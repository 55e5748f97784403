// Test build only (-DPORTCULLIS_TEST_ROUTES=ON); the production build lacks
// this file. A slow route for the graceful-drain test, a route that throws
// for the generic-500 test and an echo route for the body guards.
#ifdef PORTCULLIS_TEST_ROUTES
#include <time.h>

#include <cerrno>
#include <stdexcept>

#include "app/http/api_error.h"
#include "app/http/context.h"
#include "app/http/router.h"

namespace portcullis {
namespace {
Response get_slow(Context& ctx);
Response get_boom(Context& ctx);
Response post_echo(Context& ctx);
}  // namespace

void register_test_routes(Router& router) {
  router.add("GET", "/api/v1/test/slow", Access::kPublic, get_slow);
  router.add("GET", "/api/v1/test/boom", Access::kPublic, get_boom);
  router.add("POST", "/api/v1/test/echo", Access::kPublic, post_echo);
}

namespace {

Response get_slow(Context& ctx) {
  long ms = 1000;
  if (auto v = ctx.request.query_param("ms")) {
    ms = std::strtol(v->c_str(), nullptr, 10);
  }
  ms = std::max(0L, std::min(ms, 10000L));
  timespec left{ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  rapidjson::Document body(rapidjson::kObjectType);
  body.AddMember("slept_ms", static_cast<int64_t>(ms), body.GetAllocator());
  return json_ok(body);
}

Response get_boom(Context&) {
  throw std::runtime_error("internal detail: table secret_stuff exploded");
}

Response post_echo(Context& ctx) {
  if (!ctx.request.json) {
    throw ApiError::bad_request("validation_failed", "A JSON body is required.");
  }
  rapidjson::Document body(rapidjson::kObjectType);
  rapidjson::Value copy(*ctx.request.json, body.GetAllocator());
  body.AddMember("echo", copy, body.GetAllocator());
  return json_ok(body);
}

}  // namespace
}  // namespace portcullis
#endif
