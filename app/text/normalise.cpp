#include "app/text/normalise.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <stdexcept>

namespace portcullis {
namespace {

const icu::Normalizer2& nfkd() {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFKDInstance(status);
  if (U_FAILURE(status) || n == nullptr) {
    throw std::runtime_error("ICU NFKD normaliser unavailable");
  }
  return *n;
}

const icu::Normalizer2& nfc() {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status) || n == nullptr) {
    throw std::runtime_error("ICU NFC normaliser unavailable");
  }
  return *n;
}

// Steps 1 and 2: case fold, then compatibility decomposition.
icu::UnicodeString folded_nfkd(std::string_view text) {
  icu::UnicodeString s = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  s.foldCase(U_FOLD_CASE_DEFAULT);
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString out = nfkd().normalize(s, status);
  if (U_FAILURE(status)) {
    throw std::runtime_error("ICU normalisation failed");
  }
  return out;
}

bool is_dropped_mark(UChar32 c) {
  const int8_t type = u_charType(c);
  return type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK;
}

bool is_word_char(UChar32 c) {
  const int8_t type = u_charType(c);
  switch (type) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
    case U_DECIMAL_DIGIT_NUMBER:
    case U_COMBINING_SPACING_MARK:
      return true;
    default:
      return false;
  }
}

std::string to_nfc_utf8(const icu::UnicodeString& s) {
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString composed = nfc().normalize(s, status);
  if (U_FAILURE(status)) {
    throw std::runtime_error("ICU normalisation failed");
  }
  std::string out;
  composed.toUTF8String(out);
  return out;
}

}  // namespace

std::vector<std::string> normalised_words(std::string_view text, size_t max_words) {
  std::vector<std::string> words;
  if (max_words == 0) {
    return words;
  }
  const icu::UnicodeString s = folded_nfkd(text);
  icu::UnicodeString word;
  size_t length = 0;  // code points in `word`
  auto flush = [&]() {
    if (length > 0) {
      words.push_back(to_nfc_utf8(word));
      word.remove();
      length = 0;
    }
  };
  for (int32_t i = 0; i < s.length() && words.size() < max_words;) {
    const UChar32 c = s.char32At(i);
    i += U16_LENGTH(c);
    if (is_dropped_mark(c)) {
      continue;  // an accent: part of no word, and no separator either
    }
    if (!is_word_char(c)) {
      flush();
      continue;
    }
    if (length < kMaxWordCodePoints) {
      word.append(c);
      ++length;
    }
  }
  if (words.size() < max_words) {
    flush();
  }
  return words;
}

std::string fold_text(std::string_view text) {
  const icu::UnicodeString s = folded_nfkd(text);
  icu::UnicodeString kept;
  for (int32_t i = 0; i < s.length();) {
    const UChar32 c = s.char32At(i);
    i += U16_LENGTH(c);
    if (!is_dropped_mark(c)) {
      kept.append(c);
    }
  }
  return to_nfc_utf8(kept);
}

std::string utf8_prefix(const std::string& word, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < word.size(); ++i) {
    // A code point starts at every byte that is not a continuation byte.
    if ((static_cast<unsigned char>(word[i]) & 0xC0U) != 0x80U) {
      if (count == n) {
        return word.substr(0, i);
      }
      ++count;
    }
  }
  return word;
}

}  // namespace portcullis
