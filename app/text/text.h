// Text helpers on UTF-8 and ASCII, below every other module (tests/layering.sh):
// the request body reader (app/http/body.h), account checks (app/auth) and
// the command line all use them.
#pragma once

#include <cstddef>
#include <string>

namespace portcullis {

// Number of Unicode code points in valid UTF-8.
size_t code_points(const std::string& utf8);
// Trims ASCII whitespace at both ends.
std::string trim_ascii(const std::string& s);
// True if s contains a C0/C1 control character or DEL.
bool has_control_chars(const std::string& s);

}  // namespace portcullis
