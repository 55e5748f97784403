#include "app/crypto/blind_index.h"

#include <algorithm>
#include <set>

#include "app/crypto/keys.h"
#include "app/text/normalise.h"
#include "app/text/text.h"

namespace portcullis {
namespace {

constexpr size_t kTermHashBytes = 16;

std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4U]);
    out.push_back(kDigits[b & 0x0FU]);
  }
  return out;
}

}  // namespace

std::string search_tenant_key(const std::string& purpose_key, const std::string& tenant_id) {
  return derive_key(purpose_key, "search-index/" + tenant_id);
}

std::string term_hash(const std::string& tenant_key, const std::string& term) {
  return hex(hmac_sha256(tenant_key, term).substr(0, kTermHashBytes));
}

std::vector<std::string> memory_term_hashes(const std::string& tenant_key,
                                            std::string_view title,
                                            std::string_view content) {
  std::set<std::string> words;
  for (std::string_view part : {title, content}) {
    for (std::string& w : normalised_words(part)) {
      if (words.size() >= kMaxIndexedWords) {
        break;
      }
      words.insert(std::move(w));
    }
  }
  std::set<std::string> hashes;
  for (const std::string& w : words) {
    hashes.insert(term_hash(tenant_key, "w:" + w));
    const size_t n = std::min(code_points(w), kSearchMaxPrefix);
    for (size_t k = kSearchMinPrefix; k <= n; ++k) {
      hashes.insert(term_hash(tenant_key, "p:" + utf8_prefix(w, k)));
    }
  }
  return {hashes.begin(), hashes.end()};
}

SearchTerms query_term_hashes(const std::string& tenant_key, std::string_view q) {
  SearchTerms out;
  if (code_points(std::string(q)) > kMaxQueryCodePoints) {
    out.problem = QueryProblem::kTooLong;
    return out;
  }
  std::vector<std::string> words = normalised_words(q, kMaxQueryWords + 1);
  if (words.empty()) {
    out.problem = QueryProblem::kNoWords;
    return out;
  }
  if (words.size() > kMaxQueryWords) {
    out.problem = QueryProblem::kTooManyWords;
    return out;
  }
  std::set<std::string> terms;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    const size_t n = code_points(w);
    const bool prefix = i + 1 == words.size() && n >= kSearchMinPrefix && n <= kSearchMaxPrefix;
    terms.insert((prefix ? "p:" : "w:") + w);
  }
  for (const std::string& t : terms) {
    out.hashes.push_back(term_hash(tenant_key, t));
  }
  return out;
}

}  // namespace portcullis
