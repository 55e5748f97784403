#include "app/text/text.h"

namespace portcullis {

size_t code_points(const std::string& utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xc0) != 0x80) {
      ++n;
    }
  }
  return n;
}

std::string trim_ascii(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) {
    return "";
  }
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool has_control_chars(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      return true;
    }
    // C1 controls U+0080–U+009F are encoded as 0xC2 0x80–0x9F.
    if (c == 0xc2 && i + 1 < s.size()) {
      unsigned char d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0x9f) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace portcullis
