#include "app/mail/compose.h"

#include <time.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "app/auth/account.h"
#include "app/crypto/random.h"

namespace portcullis::mail {
namespace {

// Decodes one code point at s[i]; advances i. Invalid or overlong input
// yields U+FFFD and consumes one byte.
uint32_t next_code_point(const std::string& s, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) {
    ++i;
    return c;
  }
  size_t len = 0;
  uint32_t cp = 0;
  uint32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += len;
  return cp;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// C0, DEL, C1, and the Unicode line and paragraph separators.
bool breaks_a_line(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

bool printable_ascii(const std::string& s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7E) {
      return false;
    }
  }
  return true;
}

// RFC 2047 encoded-words, each from at most 45 bytes of whole code points,
// so each word stays within 75 characters; folded with CRLF SP.
std::string encoded_words(const std::string& utf8) {
  std::string out;
  size_t i = 0;
  while (i < utf8.size()) {
    size_t start = i;
    size_t end = i;
    while (end < utf8.size()) {
      size_t probe = end;
      next_code_point(utf8, probe);
      if (probe - start > 45) {
        break;
      }
      end = probe;
    }
    if (!out.empty()) {
      out += "\r\n ";
    }
    out += "=?UTF-8?B?" + base64_encode(utf8.substr(start, end - start)) + "?=";
    i = end;
  }
  return out;
}

std::string read_template(const std::string& dir, const std::string& file) {
  std::ifstream in(std::filesystem::path(dir) / file, std::ios::binary);
  if (!in) {
    throw MailError("template " + file + " not found in the templates directory");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool valid_kind(const std::string& kind) {
  if (kind.empty() || kind.size() > 64) {
    return false;
  }
  for (char c : kind) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string mailbox(const std::string& name, const std::string& address) {
  std::string display = encode_display_name(name);
  return display.empty() ? "<" + address + ">" : display + " <" + address + ">";
}

}  // namespace

std::string default_templates_dir(const std::string& configured) {
  if (!configured.empty()) {
    return configured;
  }
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    std::filesystem::path installed =
        exe.parent_path().parent_path() / "share/portcullis/mail/templates";
    if (std::filesystem::is_directory(installed, ec)) {
      return installed.string();
    }
    // Build tree: <repo>/build*/portcullis → <repo>/mail/templates
    std::filesystem::path repo = exe.parent_path().parent_path() / "mail/templates";
    if (std::filesystem::is_directory(repo, ec)) {
      return repo.string();
    }
  }
  return "mail/templates";
}

bool header_safe_address(const std::string& address) {
  if (!valid_email(address)) {
    return false;
  }
  for (char c : address) {
    if (c <= 0x20 || c > 0x7E) {
      return false;
    }
    for (char special : std::string("()<>[]:;,\\\"")) {
      if (c == special) {
        return false;
      }
    }
  }
  return true;
}

std::string single_line(const std::string& text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    uint32_t cp = next_code_point(text, i);
    append_utf8(out, breaks_a_line(cp) ? ' ' : cp);
  }
  return out;
}

std::string encode_unstructured(const std::string& text) {
  std::string clean = single_line(text);
  std::string capped;
  size_t i = 0;
  for (int n = 0; n < 200 && i < clean.size(); ++n) {
    append_utf8(capped, next_code_point(clean, i));
  }
  return printable_ascii(capped) ? capped : encoded_words(capped);
}

std::string encode_display_name(const std::string& name) {
  std::string clean = single_line(name);
  std::string capped;
  size_t i = 0;
  for (int n = 0; n < 200 && i < clean.size(); ++n) {
    append_utf8(capped, next_code_point(clean, i));
  }
  if (capped.empty()) {
    return "";
  }
  bool atoms = capped.front() != ' ' && capped.back() != ' ';
  for (char c : capped) {
    bool atext = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string("!#$%&'*+-/=?^_`{|}~ ").find(c) != std::string::npos;
    // "=?" could open an encoded-word a reader would decode: encode it instead.
    atoms = atoms && atext;
  }
  if (atoms && capped.find("=?") == std::string::npos) {
    return capped;
  }
  return encoded_words(capped);
}

std::string rfc5322_date(int64_t ms) {
  static constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed",
                                                    "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%s, %02d %s %04d %02d:%02d:%02d +0000",
                kDays.at(static_cast<size_t>(tm.tm_wday)), tm.tm_mday,
                kMonths.at(static_cast<size_t>(tm.tm_mon)), tm.tm_year + 1900, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf.data();
}

std::string quoted_printable(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  std::string line;
  size_t width = 0;
  auto emit = [&](const std::string& token) {
    if (width + token.size() > 75) {
      out += line + "=\r\n";
      line.clear();
      width = 0;
    }
    line += token;
    width += token.size();
  };
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    bool last = end == std::string::npos;
    std::string raw = text.substr(start, last ? std::string::npos : end - start);
    if (!raw.empty() && raw.back() == '\r') {
      raw.pop_back();
    }
    for (size_t i = 0; i < raw.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(raw[i]);
      bool at_end = i + 1 == raw.size();
      bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_end);
      // A leading '.' is encoded too, so no line of the body is SMTP's end marker.
      if (literal && !(c == '.' && width == 0)) {
        emit(std::string(1, static_cast<char>(c)));
      } else {
        emit(std::string{'=', kHex[c >> 4], kHex[c & 0xF]});
      }
    }
    out += line;
    line.clear();
    width = 0;
    if (last) {
      break;
    }
    out += "\r\n";
    start = end + 1;
  }
  return out;
}

std::string render(const std::string& tmpl,
                   const std::map<std::string, std::string>& values,
                   bool html,
                   const std::string& template_name) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = tmpl.find("{{", pos);
    if (open == std::string::npos) {
      out += tmpl.substr(pos);
      break;
    }
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) {
      out += tmpl.substr(pos);
      break;
    }
    out += tmpl.substr(pos, open - pos);
    std::string name = tmpl.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') {
      name.erase(0, 1);
    }
    while (!name.empty() && name.back() == ' ') {
      name.pop_back();
    }
    auto it = values.find(name);
    if (it == values.end() || !valid_kind(name)) {
      throw MailError("template " + template_name + ": no value for a placeholder");
    }
    // A value is one line of text wherever it goes.
    std::string value = single_line(it->second);
    out += html ? html_escape(value) : value;
    pos = close + 2;
  }
  return out;
}

Composed compose(const ComposeSettings& settings,
                 const std::string& row_id,
                 const store::outbox::OutboxMail& mail,
                 int64_t now_ms) {
  if (!header_safe_address(mail.to_address)) {
    throw std::invalid_argument("recipient address cannot be used in a header");
  }
  if (!header_safe_address(settings.from_address)) {
    throw MailError("MAIL_FROM is not a usable address");
  }
  if (!valid_kind(mail.kind)) {
    throw MailError("malformed mail kind");
  }
  std::map<std::string, std::string> values = mail.params;
  // Links only from the configured base URL (REC-3), never from a request.
  values["base_url"] = settings.public_base_url;
  std::string subject_template = read_template(settings.templates_dir, mail.kind + ".subject");
  // One line: the file's final line break (and any trailing space) is not part of it.
  while (!subject_template.empty() &&
         (subject_template.back() == '\n' || subject_template.back() == '\r' ||
          subject_template.back() == ' ')) {
    subject_template.pop_back();
  }
  std::string subject = render(subject_template, values, false, mail.kind + ".subject");
  std::string text = render(read_template(settings.templates_dir, mail.kind + ".txt"), values,
                            false, mail.kind + ".txt");
  std::string html = render(read_template(settings.templates_dir, mail.kind + ".html"), values,
                            true, mail.kind + ".html");

  std::string domain = settings.from_address.substr(settings.from_address.find('@') + 1);
  std::string row_part = header_safe_address(row_id + "@" + domain) ? row_id : random_hex(16);
  Composed c;
  c.message_id = "<" + row_part + "@" + domain + ">";
  // "=_" never occurs in quoted-printable text: the boundary cannot clash.
  std::string boundary = "=_portcullis_" + random_hex(16);
  std::string& d = c.data;
  d += "Date: " + rfc5322_date(now_ms) + "\r\n";
  d += "From: " + mailbox(settings.from_name, settings.from_address) + "\r\n";
  d += "To: " + mailbox(mail.to_name, mail.to_address) + "\r\n";
  d += "Subject: " + encode_unstructured(subject) + "\r\n";
  d += "Message-ID: " + c.message_id + "\r\n";
  d += "MIME-Version: 1.0\r\n";
  d += "Auto-Submitted: auto-generated\r\n";
  d += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  d += "\r\n";
  d += "--" + boundary + "\r\n";
  d += "Content-Type: text/plain; charset=utf-8\r\n";
  d += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  d += quoted_printable(text) + "\r\n";
  d += "--" + boundary + "\r\n";
  d += "Content-Type: text/html; charset=utf-8\r\n";
  d += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  d += quoted_printable(html) + "\r\n";
  d += "--" + boundary + "--\r\n";
  return c;
}

}  // namespace portcullis::mail
