// Strict JSON parsing for request bodies (API-2): RapidJSON's iterative
// parser (no recursion, so deep nesting cannot overflow the stack), UTF-8
// validation, nesting depth at most kMaxJsonDepth, duplicate keys refused,
// trailing bytes refused.
#pragma once

#include <string>

#include <rapidjson/document.h>

namespace portcullis {

inline constexpr int kMaxJsonDepth = 32;

enum class JsonParseResult { kOk, kSyntax, kTooDeep, kDuplicateKey };

// REQUIRES: out != nullptr. On kOk, *out holds the parsed value.
[[nodiscard]] JsonParseResult parse_json_strict(const std::string& text, rapidjson::Document* out);

}  // namespace portcullis
