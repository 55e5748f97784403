// The one word normaliser of search (README "Search and the blind index"):
// the blind index (app/crypto/blind_index.h) and the query both go through it,
// on both backends, so a word is the same word wherever it was typed.
//
// A text becomes words in four steps (ICU):
//   1. full Unicode case folding ("ÄRGER" → "ärger", "ß" → "ss", "İ" → "i̇");
//   2. NFKD (compatibility decomposition: "ﬁ" → "fi", "²" → "2", "é" → "e"+◌́);
//   3. nonspacing and enclosing marks (Mn, Me) are dropped, so accents go:
//      "Ärger", "ÄRGER", "arger" are one word;
//   4. a word is a maximal run of letters (L*), decimal digits (Nd) and
//      spacing marks (Mc, inside scripts such as Devanagari); everything else
//      (spaces, punctuation, symbols, emoji) separates words. Each word is
//      recomposed (NFC) and cut to kMaxWordCodePoints code points.
// The input must be valid UTF-8 (the JSON layer refuses anything else); an
// invalid sequence becomes U+FFFD, a separator.
//
// Thread safety: pure functions; the ICU normaliser instances are immutable
// singletons.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis {

// A longer word is indexed and looked up by its first 64 code points.
inline constexpr size_t kMaxWordCodePoints = 64;

// The normalised words of `text`, in order, repeats kept; at most max_words.
std::vector<std::string> normalised_words(std::string_view text, size_t max_words = SIZE_MAX);

// The whole of `text` case- and accent-folded (steps 1–3 and NFC), nothing
// split or dropped: how tags compare ("Work" and "work" are one tag).
std::string fold_text(std::string_view text);

// The first n code points of valid UTF-8 `word` (all of it when shorter).
std::string utf8_prefix(const std::string& word, size_t n);

}  // namespace portcullis
