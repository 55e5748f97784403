#include "app/http/json.h"

#include <cstdint>
#include <set>
#include <vector>

#include <rapidjson/reader.h>

namespace portcullis {
namespace {

// Forwards SAX events to the Document while counting depth and checking
// keys for duplicates. Returning false stops the parser.
class StrictHandler {
 public:
  explicit StrictHandler(rapidjson::Document& doc) : doc_(doc) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* str, rapidjson::SizeType len, bool copy) {
    return doc_.RawNumber(str, len, copy);
  }
  bool String(const char* str, rapidjson::SizeType len, bool copy) {
    if (!is_valid_utf8(str, len)) {
      bad_string_ = true;
      return false;
    }
    return doc_.String(str, len, copy);
  }
  bool StartObject() {
    if (!enter()) {
      return false;
    }
    keys_.emplace_back();
    return doc_.StartObject();
  }
  bool Key(const char* str, rapidjson::SizeType len, bool copy) {
    if (!is_valid_utf8(str, len) || has_control(str, len)) {
      bad_key_ = true;
      return false;
    }
    if (depth_ == 1) {
      top_key_.assign(str, len);
    }
    if (!keys_.back().emplace(str, len).second) {
      duplicate_ = true;
      return false;
    }
    return doc_.Key(str, len, copy);
  }
  bool EndObject(rapidjson::SizeType count) {
    --depth_;
    keys_.pop_back();
    return doc_.EndObject(count);
  }
  bool StartArray() {
    if (!enter()) {
      return false;
    }
    return doc_.StartArray();
  }
  bool EndArray(rapidjson::SizeType count) {
    --depth_;
    return doc_.EndArray(count);
  }

  bool too_deep() const { return too_deep_; }
  bool duplicate() const { return duplicate_; }
  bool bad_string() const { return bad_string_; }
  bool bad_key() const { return bad_key_; }
  // The member of the outermost object being parsed ("" outside one).
  const std::string& top_key() const { return top_key_; }

 private:
  bool enter() {
    if (++depth_ > kMaxJsonDepth) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  rapidjson::Document& doc_;
  int depth_ = 0;
  // A C0 control character or DEL (U+0000 included: names are compared
  // with their length, but such a key has no legitimate use).
  static bool has_control(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c < 0x20 || c == 0x7f) {
        return true;
      }
    }
    return false;
  }

  bool too_deep_ = false;
  bool duplicate_ = false;
  bool bad_string_ = false;
  bool bad_key_ = false;
  std::string top_key_;
  std::vector<std::set<std::string>> keys_;
};

}  // namespace

bool is_valid_utf8(const char* s, size_t length) {
  const auto* p = reinterpret_cast<const unsigned char*>(s);
  size_t i = 0;
  while (i < length) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      return false;  // a continuation byte first, or 0xf8–0xff
    }
    if (length - i <= extra) {
      return false;
    }
    for (size_t k = 1; k <= extra; ++k) {
      unsigned char d = p[i + k];
      if ((d & 0xc0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

JsonParseResult parse_json_strict(const std::string& text,
                                  rapidjson::Document* out,
                                  std::string* field) {
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  rapidjson::Document doc;
  bool too_deep = false;
  bool duplicate = false;
  bool bad_string = false;
  bool bad_key = false;
  std::string top_key;
  bool ok = false;
  auto generator = [&](rapidjson::Document& target) {
    StrictHandler handler(target);
    rapidjson::Reader reader;
    rapidjson::StringStream stream(text.c_str());
    rapidjson::ParseResult result = reader.Parse<kFlags>(stream, handler);
    too_deep = handler.too_deep();
    duplicate = handler.duplicate();
    bad_string = handler.bad_string();
    bad_key = handler.bad_key();
    top_key = handler.top_key();
    // A NUL byte inside the body would end the C string early: refuse it.
    ok = !result.IsError() && stream.Tell() == text.size();
    return ok;
  };
  doc.Populate(generator);
  if (too_deep) {
    return JsonParseResult::kTooDeep;
  }
  if (duplicate) {
    return JsonParseResult::kDuplicateKey;
  }
  if (bad_key) {
    return JsonParseResult::kBadKey;
  }
  if (bad_string) {
    if (field != nullptr) {
      *field = top_key.empty() ? "body" : top_key;
    }
    return JsonParseResult::kBadString;
  }
  if (!ok) {
    return JsonParseResult::kSyntax;
  }
  out->Swap(doc);
  return JsonParseResult::kOk;
}

}  // namespace portcullis
