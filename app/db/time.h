// Time as the database stores it. SQLite keeps RFC 3339 UTC text with
// milliseconds ("2026-11-23T22:40:00.123Z", sorts as text); PostgreSQL keeps
// timestamptz and hands it back as "2026-11-23 22:40:00.123+00". Both parse
// here; everything the app writes is RFC 3339 text, which PostgreSQL casts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace portcullis {

// Milliseconds since the Unix epoch, now.
int64_t now_ms();
// RFC 3339 UTC with milliseconds.
std::string format_time_ms(int64_t ms);
// Parses either form above (fraction of any length, offset Z or ±HH[:MM]).
// nullopt on anything else.
std::optional<int64_t> parse_time_ms(const std::string& text);

}  // namespace portcullis
