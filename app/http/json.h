// Strict JSON parsing for request bodies (API-2): RapidJSON's iterative
// parser (no recursion, so deep nesting cannot overflow the stack), UTF-8
// validation, nesting depth at most kMaxJsonDepth, duplicate keys refused,
// trailing bytes refused. Every decoded string and key is strict UTF-8: an
// escape such as "\udc00" (a lone surrogate) decodes to bytes that are not
// UTF-8, and is refused (#9 item 5). A key with a control character
// (including an escaped NUL) is refused (#9 item 11).
#pragma once

#include <string>

#include <rapidjson/document.h>

namespace portcullis {

inline constexpr int kMaxJsonDepth = 32;

enum class JsonParseResult { kOk, kSyntax, kTooDeep, kDuplicateKey, kBadString, kBadKey };

// REQUIRES: out != nullptr. On kOk, *out holds the parsed value. On
// kBadString, *field (when given) names the top-level member that holds the
// bad string ("body" when there is none).
[[nodiscard]] JsonParseResult parse_json_strict(const std::string& text,
                                                rapidjson::Document* out,
                                                std::string* field = nullptr);

// True if s is well-formed UTF-8: shortest form, no surrogate code points
// (U+D800–U+DFFF), nothing above U+10FFFF.
[[nodiscard]] bool is_valid_utf8(const char* s, size_t length);

}  // namespace portcullis
