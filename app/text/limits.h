// The length limits of the fields a client sends, in one place: the
// validators use these constants, and GET /api/v1/policy serves the same
// numbers, so the SPA checks what the server checks (issue 12 item 6). The
// password's lengths live with the password policy (app/auth/passwords.h).
#pragma once

#include <cstddef>

namespace portcullis {

// An e-mail address, in bytes (RFC 5321's path limit less the brackets).
inline constexpr size_t kMaxEmailBytes = 254;
// A name (display name, tenant name, context name), in code points after trimming.
inline constexpr size_t kMaxNameCodePoints = 100;
// A memory: its title in code points, its content in bytes, its tags.
inline constexpr size_t kMaxMemoryTitleCodePoints = 200;
inline constexpr size_t kMaxMemoryContentBytes = 32 * 1024;
inline constexpr size_t kMaxMemoryTags = 20;
inline constexpr size_t kMaxMemoryTagCodePoints = 40;

}  // namespace portcullis
