// API-2: strict JSON parsing.
#include "app/http/json.h"

#include <functional>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "app/http/api_error.h"
#include "app/http/body.h"
#include "app/http/guards.h"

namespace portcullis {
namespace {

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonTest, API2_RefusesNestingDeeperThan32) {
  rapidjson::Document doc;
  EXPECT_EQ(parse_json_strict(nested(33), &doc), JsonParseResult::kTooDeep);
}

TEST(JsonTest, API2_AcceptsNestingOf32) {
  rapidjson::Document doc;
  ASSERT_EQ(parse_json_strict(nested(32), &doc), JsonParseResult::kOk);
  EXPECT_TRUE(doc.IsArray());
}

TEST(JsonTest, API2_HundredThousandBracketsFailWithoutCrashing) {
  rapidjson::Document doc;
  EXPECT_EQ(parse_json_strict(std::string(100000, '['), &doc), JsonParseResult::kTooDeep);
}

TEST(JsonTest, API2_RefusesDuplicateKeys) {
  rapidjson::Document doc;
  EXPECT_EQ(parse_json_strict(R"({"a":1,"a":2})", &doc), JsonParseResult::kDuplicateKey);
  EXPECT_EQ(parse_json_strict(R"({"a":{"b":1},"b":{"b":2}})", &doc), JsonParseResult::kOk);
}

TEST(JsonTest, API2_RefusesTrailingBytesAndBadUtf8AndNul) {
  rapidjson::Document doc;
  EXPECT_EQ(parse_json_strict(R"({"a":1} x)", &doc), JsonParseResult::kSyntax);
  EXPECT_EQ(parse_json_strict("{\"a\":\"\xff\xfe\"}", &doc), JsonParseResult::kSyntax);
  EXPECT_EQ(parse_json_strict(std::string("{\"a\":1}\0{", 9), &doc), JsonParseResult::kSyntax);
  EXPECT_EQ(parse_json_strict("", &doc), JsonParseResult::kSyntax);
  EXPECT_EQ(parse_json_strict("{'a':1}", &doc), JsonParseResult::kSyntax);
}

TEST(JsonTest, ParsesValuesIntoDocument) {
  rapidjson::Document doc;
  ASSERT_EQ(parse_json_strict(R"( {"name":"x","n":[1,2,3]} )", &doc), JsonParseResult::kOk);
  EXPECT_STREQ(doc["name"].GetString(), "x");
  EXPECT_EQ(doc["n"].Size(), 3u);
}

// #9 item 5: an escape that decodes to a lone surrogate is not UTF-8.
TEST(JsonTest, Item5_LoneSurrogateEscapeIsRefusedNamingTheField) {
  rapidjson::Document doc;
  std::string field;
  EXPECT_EQ(parse_json_strict(R"({"ok":"x","display_name":"a\udc00b"})", &doc, &field),
            JsonParseResult::kBadString);
  EXPECT_EQ(field, "display_name");
  EXPECT_EQ(parse_json_strict(R"({"tags":{"inner":["x","\udfff"]}})", &doc, &field),
            JsonParseResult::kBadString);
  EXPECT_EQ(field, "tags");
  EXPECT_EQ(parse_json_strict(R"(["\udc00"])", &doc, &field), JsonParseResult::kBadString);
  EXPECT_EQ(field, "body");
  EXPECT_NE(parse_json_strict(R"({"a":"\ud800"})", &doc), JsonParseResult::kOk);
  EXPECT_NE(parse_json_strict(R"({"a\udc00":1})", &doc), JsonParseResult::kOk);
  ASSERT_EQ(parse_json_strict(R"({"a":"\ud83d\ude00 \u00e9"})", &doc), JsonParseResult::kOk);
  EXPECT_STREQ(doc["a"].GetString(), "\xF0\x9F\x98\x80 \xC3\xA9");
}

TEST(JsonTest, Item5_Utf8ValidatorRefusesSurrogatesOverlongsAndTruncation) {
  auto valid = [](const std::string& s) { return is_valid_utf8(s.data(), s.size()); };
  EXPECT_FALSE(valid("\xED\xB0\x80"));      // U+DC00
  EXPECT_FALSE(valid("\xED\xA0\x80"));      // U+D800
  EXPECT_FALSE(valid("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(valid("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid("\xE2\x82"));          // truncated
  EXPECT_FALSE(valid("\x80"));              // a lone continuation byte
  EXPECT_TRUE(valid(""));
  EXPECT_TRUE(valid("plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xED\x9F\xBF"));
  EXPECT_TRUE(valid(std::string("a\0b", 3)));
}

// #9 item 11: a key with a control character (an escaped NUL above all).
TEST(JsonTest, Item11_KeyWithControlCharacterIsRefused) {
  rapidjson::Document doc;
  EXPECT_EQ(parse_json_strict(R"({"title":"t","title\u0000":"x"})", &doc),
            JsonParseResult::kBadKey);
  EXPECT_EQ(parse_json_strict(R"({"a":{"b\u001f":1}})", &doc), JsonParseResult::kBadKey);
  EXPECT_EQ(parse_json_strict(R"({"a\u007f":1})", &doc), JsonParseResult::kBadKey);
  EXPECT_EQ(parse_json_strict(R"({"caf\u00e9":1})", &doc), JsonParseResult::kOk);
}

Request json_request(const std::string& body) {
  Request r;
  r.method = "POST";
  r.body = body;
  r.headers["content-type"] = "application/json";
  run_guards(r);
  return r;
}

std::map<std::string, std::string> field_errors(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.fields();
  }
  return {};
}

TEST(JsonBodyTest, Item5_GuardAnswers400NamingTheField) {
  auto fields = field_errors([] { json_request(R"({"email":"x\udc00@example.test"})"); });
  EXPECT_EQ(fields.count("email"), 1u);
  fields = field_errors([] { json_request(R"({"a\u0000":1})"); });
  EXPECT_EQ(fields.count("body"), 1u);
}

// #9 item 10: null for a required string is "is required", as absent and "" are.
TEST(JsonBodyTest, Item10_NullRequiredStringIsRefused) {
  for (const char* body : {R"({"title":null})", R"({})", R"({"title":""})"}) {
    Request r = json_request(body);
    auto fields = field_errors([&] {
      JsonBody b(r, {"title"});
      EXPECT_EQ(b.required_string("title"), "");
      b.finish();
    });
    EXPECT_EQ(fields["title"], "is required") << body;
  }
  Request number = json_request(R"({"title":5})");
  auto fields = field_errors([&] {
    JsonBody b(number, {"title"});
    (void)b.required_string("title");
    b.finish();
  });
  EXPECT_EQ(fields["title"], "must be a string");
  Request ok = json_request(R"({"title":"t"})");
  JsonBody b(ok, {"title"});
  EXPECT_EQ(b.required_string("title"), "t");
  EXPECT_NO_THROW(b.finish());
}

// #9 item 11: names are compared with their lengths, so a key that a C string
// compare would read as "title" is not an accepted field.
TEST(JsonBodyTest, Item11_AllowListComparesNamesWithTheirLength) {
  Request r;
  r.json.emplace();
  r.json->SetObject();
  auto& a = r.json->GetAllocator();
  r.json->AddMember("title", "t", a);
  rapidjson::Value key("title\0", 6, a);
  rapidjson::Value value("x", a);
  r.json->AddMember(key, value, a);
  auto fields = field_errors([&] { JsonBody b(r, {"title"}); });
  EXPECT_EQ(fields.count("body"), 1u);
}

}  // namespace
}  // namespace portcullis
