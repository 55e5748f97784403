// The blind index of memory search (README "Search and the blind index"):
// instead of words, the database keeps keyed hashes of normalised words
// (app/text/normalise.h), so no word list exists in it in clear.
//
// Keys: the "search-index" purpose key (WorkerKeys::search_index_key(),
// HKDF from PORTCULLIS_SECRET_KEY) is widened per tenant with HKDF again,
// info = "portcullis/v1/search-index/<tenant id>", so the same word has
// unrelated hashes in two tenants and one tenant's hashes say nothing about
// another's. A term hash is HMAC-SHA-256(tenant key, term) cut to 16 bytes,
// as 32 lower-case hex digits.
//
// Terms of a memory (title and content; tags have their own filter): for each
// distinct normalised word w, "w:" + w, and "p:" + its first n code points
// for every n from 3 to min(8, length of w). Shorter prefixes would match too
// much and tell too much (a 1–2 letter prefix hash is a near-alphabet
// frequency table); longer ones add rows and no selectivity.
//
// A query: every word must match ("w:" + word), except the last, which is
// looked up as a prefix ("p:" + word) when it has 3 to 8 code points, else as
// a whole word.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis {

inline constexpr size_t kSearchMinPrefix = 3;
inline constexpr size_t kSearchMaxPrefix = 8;
// Distinct words of one memory that are indexed (the first ones); the rest
// of a very long text is not searchable. With at most 7 terms a word this
// bounds a memory's index rows at 14 000.
inline constexpr size_t kMaxIndexedWords = 2000;
// A query has 1 to 8 words and at most 200 code points.
inline constexpr size_t kMaxQueryWords = 8;
inline constexpr size_t kMaxQueryCodePoints = 200;

// The tenant's 32-byte search key. REQUIRES: purpose_key.size() >= 32.
std::string search_tenant_key(const std::string& purpose_key, const std::string& tenant_id);

// The stored form of one term: 32 hex digits.
std::string term_hash(const std::string& tenant_key, const std::string& term);

// Every term hash of a memory, distinct, sorted.
std::vector<std::string> memory_term_hashes(const std::string& tenant_key,
                                            std::string_view title,
                                            std::string_view content);

enum class QueryProblem { kNone, kNoWords, kTooManyWords, kTooLong };

struct SearchTerms {
  QueryProblem problem = QueryProblem::kNone;
  std::vector<std::string> hashes;  // distinct; empty unless problem == kNone
};

// The term hashes every match must have, for the query text q.
[[nodiscard]] SearchTerms query_term_hashes(const std::string& tenant_key, std::string_view q);

}  // namespace portcullis
