// The search word normaliser (app/text/normalise.h) and the blind-index
// terms built on it (app/crypto/blind_index.h).
#include "app/text/normalise.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/crypto/blind_index.h"

namespace portcullis {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(Normalise, EmptyAndSeparatorsOnlyGiveNoWords) {
  EXPECT_THAT(normalised_words(""), IsEmpty());
  EXPECT_THAT(normalised_words("  ,.;!? -- \t\n"), IsEmpty());
}

TEST(Normalise, GermanCaseAndUmlautsFoldToOneWord) {
  EXPECT_THAT(normalised_words("Ärger ÄRGER arger ärger"),
              ElementsAre("arger", "arger", "arger", "arger"));
  EXPECT_THAT(normalised_words("Straße STRASSE"), ElementsAre("strasse", "strasse"));
}

TEST(Normalise, FrenchAccentsAndApostrophes) {
  EXPECT_THAT(normalised_words("L'Été à Noël, CAFÉ crème"),
              ElementsAre("l", "ete", "a", "noel", "cafe", "creme"));
  // Decomposed input (e + U+0301) is the same word as precomposed.
  EXPECT_THAT(normalised_words("cafe\xCC\x81"), ElementsAre("cafe"));
}

TEST(Normalise, TurkishDottedAndDotlessI) {
  // U+0130 (İ) folds to i + U+0307, whose mark is dropped: "i".
  EXPECT_THAT(normalised_words("\xC4\xB0stanbul"), ElementsAre("istanbul"));
  // U+0131 (ı) is its own letter under the default (non-Turkish) folding.
  EXPECT_THAT(normalised_words("\xC4\xB1s\xC4\xB1k"), ElementsAre("\xC4\xB1s\xC4\xB1k"));
}

TEST(Normalise, LigaturesAndCompatibilityForms) {
  EXPECT_THAT(normalised_words("\xEF\xAC\x81le"), ElementsAre("file"));  // U+FB01 ﬁ
  EXPECT_THAT(normalised_words("\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3"),
              ElementsAre("abc"));  // fullwidth ＡＢＣ
}

TEST(Normalise, EmojiAndSymbolsSeparateWords) {
  EXPECT_THAT(normalised_words("tea\xF0\x9F\x8D\xB5time \xE2\x82\xAC"
                               "42 #tag"),
              ElementsAre("tea", "time", "42", "tag"));
}

TEST(Normalise, NonLatinScriptsAreWords) {
  EXPECT_THAT(normalised_words("Москва ΑΘΗΝΑ"), ElementsAre("москва", "αθηνα"));
}

TEST(Normalise, LongWordsAreCutAndWordCountLimited) {
  const std::string longer(100, 'x');
  EXPECT_THAT(normalised_words(longer), ElementsAre(std::string(kMaxWordCodePoints, 'x')));
  EXPECT_EQ(normalised_words("a b c d e f", 3).size(), 3U);
}

TEST(Normalise, InvalidUtf8IsASeparatorNotACrash) {
  // The JSON layer refuses such bodies (400); the normaliser stays total.
  EXPECT_THAT(normalised_words("ab\xFF\xFE"
                               "cd"),
              ElementsAre("ab", "cd"));
}

TEST(Normalise, FoldTextKeepsSpacesAndFoldsCaseAndAccents) {
  EXPECT_EQ(fold_text("Work"), "work");
  EXPECT_EQ(fold_text("Ärger im Büro"), "arger im buro");
}

TEST(Normalise, Utf8Prefix) {
  EXPECT_EQ(utf8_prefix("москва", 3), "мос");
  EXPECT_EQ(utf8_prefix("ab", 3), "ab");
}

const std::string kKey(32, 'k');

TEST(BlindIndex, TenantKeysDiffer) {
  const std::string a = search_tenant_key(kKey, "tenant-a");
  EXPECT_EQ(a.size(), 32U);
  EXPECT_NE(a, search_tenant_key(kKey, "tenant-b"));
  EXPECT_NE(term_hash(a, "w:word"), term_hash(search_tenant_key(kKey, "tenant-b"), "w:word"));
}

TEST(BlindIndex, TermsAreHexHashesWithoutTheWord) {
  const std::vector<std::string> hashes = memory_term_hashes(kKey, "Secret", "plaintext");
  for (const std::string& h : hashes) {
    EXPECT_EQ(h.size(), 32U);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  }
  // "secret": w + prefixes 3..6 = 5; "plaintext": w + prefixes 3..8 = 7.
  EXPECT_EQ(hashes.size(), 12U);
}

TEST(BlindIndex, WordsAreDeduplicatedPerMemory) {
  EXPECT_EQ(memory_term_hashes(kKey, "word", "Word WORD wörd").size(),
            memory_term_hashes(kKey, "", "word").size());
}

TEST(BlindIndex, QueryMatchesIndexAcrossCaseAccentsAndPrefix) {
  const std::vector<std::string> index = memory_term_hashes(kKey, "Über den Ärger", "");
  auto found = [&](const std::string& q) {
    SearchTerms t = query_term_hashes(kKey, q);
    EXPECT_EQ(t.problem, QueryProblem::kNone) << q;
    for (const std::string& h : t.hashes) {
      if (std::find(index.begin(), index.end(), h) == index.end()) {
        return false;
      }
    }
    return true;
  };
  EXPECT_TRUE(found("ARGER"));
  EXPECT_TRUE(found("uber arg"));   // last word as prefix
  EXPECT_FALSE(found("arg uber"));  // only the last word is a prefix
  EXPECT_FALSE(found("ar"));        // too short for a prefix: whole word "ar"
  EXPECT_TRUE(found("den"));
  EXPECT_FALSE(found("arger nowhere"));
}

TEST(BlindIndex, QueryProblems) {
  EXPECT_EQ(query_term_hashes(kKey, " !? ").problem, QueryProblem::kNoWords);
  EXPECT_EQ(query_term_hashes(kKey, "a b c d e f g h i").problem, QueryProblem::kTooManyWords);
  EXPECT_EQ(query_term_hashes(kKey, std::string(201, 'a')).problem, QueryProblem::kTooLong);
  EXPECT_EQ(query_term_hashes(kKey, "a b c d e f g h").hashes.size(), 8U);
}

}  // namespace
}  // namespace portcullis
