// Guards that run before routing for every /api/ path (DESIGN §3, §8), in
// this order, so a bad body on any path gets 413/415/400 before 404/405.
// Each throws ApiError; none looks at the route.
#pragma once

#include <cstddef>

#include "app/http/request.h"

namespace portcullis {

// 413 when the body exceeded MAX_BODY_BYTES (the worker stops reading at
// the limit and sets request.body_too_large).
void guard_body_size(const Request& request);
// 415 when a body is present and Content-Type is not application/json
// (parameters such as charset=utf-8 are allowed). This also blocks the
// text/plain and form posts a cross-site page can send without preflight.
void guard_content_type(const Request& request);
// 400 invalid_json when the body is not strict JSON (syntax, depth > 32,
// duplicate key, invalid UTF-8). Fills request.json on success.
void guard_json(Request& request);

// All three, in order.
void run_guards(Request& request);

}  // namespace portcullis
