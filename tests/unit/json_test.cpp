// API-2: strict JSON parsing.
#include "app/http/json.h"

#include <string>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace portcullis
