#include "app/http/json.h"

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
  bool too_deep_ = false;
  bool duplicate_ = false;
  std::vector<std::set<std::string>> keys_;
};

}  // namespace

JsonParseResult parse_json_strict(const std::string& text, rapidjson::Document* out) {
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  rapidjson::Document doc;
  bool too_deep = false;
  bool duplicate = false;
  bool ok = false;
  auto generator = [&](rapidjson::Document& target) {
    StrictHandler handler(target);
    rapidjson::Reader reader;
    rapidjson::StringStream stream(text.c_str());
    rapidjson::ParseResult result = reader.Parse<kFlags>(stream, handler);
    too_deep = handler.too_deep();
    duplicate = handler.duplicate();
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
  if (!ok) {
    return JsonParseResult::kSyntax;
  }
  out->Swap(doc);
  return JsonParseResult::kOk;
}

}  // namespace portcullis
