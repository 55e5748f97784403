// A small closed-table User-Agent parser: the browser family and the OS
// family of a request, for the "sign-in from a new device" check
// (app/auth/device.h) and the sessions list. It is deliberately coarse: the
// families below and nothing else (no versions, no device models), so the
// answer is stable across browser updates.
//
// Contract: never throws, never allocates beyond its result, and reads at
// most kUserAgentScanBytes of the header (the part sessions store), so a
// hostile 10 KB header costs the same as a real one. Any input — empty,
// binary, control characters — yields a valid pair ("Other" when unknown).
#pragma once

#include <cstddef>
#include <string_view>

namespace portcullis {

// The header prefix the parser reads (the sessions table keeps as much).
inline constexpr size_t kUserAgentScanBytes = 512;

// Browser families: "Chrome", "Chromium", "Edge", "Firefox", "Safari",
// "Opera", "Samsung Internet", "Other" (tools such as curl, bots, and every
// browser not listed).
// OS families: "Windows", "macOS", "iOS", "iPadOS", "Android", "Linux",
// "ChromeOS", "Other". An iPad that asks for desktop sites sends a Macintosh
// header and is reported as macOS (it cannot be told apart).
struct UserAgentFamilies {
  std::string_view browser;  // points at a static string
  std::string_view os;       // points at a static string
};

UserAgentFamilies parse_user_agent(std::string_view header) noexcept;

}  // namespace portcullis
