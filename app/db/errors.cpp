#include "app/db/errors.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <vector>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace portcullis {
namespace {

constexpr int kSqliteBusy = 5;    // SQLITE_BUSY
constexpr int kSqliteLocked = 6;  // SQLITE_LOCKED
constexpr size_t kMaxMessage = 300;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The word just before position `end` in `s` (lower-case), skipping spaces.
std::string word_before(const std::string& s, size_t end) {
  size_t e = end;
  while (e > 0 && s[e - 1] == ' ') {
    --e;
  }
  size_t b = e;
  while (b > 0 && (std::isalpha(static_cast<unsigned char>(s[b - 1])) != 0)) {
    --b;
  }
  return lower(s.substr(b, e - b));
}

bool names_schema_object(const std::string& word) {
  static const std::array<const char*, 11> kWords = {"constraint", "relation", "table",   "column",
                                                     "index",      "function", "type",    "schema",
                                                     "view",       "trigger",  "sequence"};
  return std::any_of(kWords.begin(), kWords.end(), [&](const char* w) { return word == w; });
}

std::vector<std::string> sql_words(const std::string& sql, size_t max_words) {
  std::vector<std::string> words;
  std::string current;
  for (char ch : sql) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '_' || c == '.') {
      if (current.size() < 64) {
        current += static_cast<char>(std::tolower(c));
      }
    } else if (!current.empty()) {
      words.push_back(current);
      current.clear();
      if (words.size() >= max_words) {
        return words;
      }
    }
  }
  if (!current.empty()) {
    words.push_back(current);
  }
  return words;
}

}  // namespace

bool is_busy(const soci::soci_error& e) {
  if (const auto* s = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    int code = s->result() & 0xff;  // the primary code of an extended one
    return code == kSqliteBusy || code == kSqliteLocked;
  }
  if (const auto* p = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    std::string state = p->sqlstate();
    // serialization_failure, deadlock_detected, lock_not_available,
    // query_canceled (statement_timeout)
    return state == "40001" || state == "40P01" || state == "55P03" || state == "57014";
  }
  return false;
}

std::string loggable_message(const soci::soci_error& e) {
  return loggable_message(e.get_error_message());
}

std::string loggable_message(const std::string& message) {
  std::string first = message.substr(0, message.find('\n'));
  std::string out;
  size_t i = 0;
  while (i < first.size()) {
    char c = first[i];
    if (c != '"') {
      out += c;
      ++i;
      continue;
    }
    size_t close = first.find('"', i + 1);
    if (close == std::string::npos) {
      out += "\"?";  // an unterminated quote: drop the rest
      break;
    }
    if (names_schema_object(word_before(first, i))) {
      out += first.substr(i, close - i + 1);
    } else {
      out += "\"?\"";
    }
    i = close + 1;
  }
  if (out.size() > kMaxMessage) {
    out.resize(kMaxMessage);
  }
  return out;
}

std::string loggable_what(const std::exception& e) {
  if (const auto* db_error = dynamic_cast<const soci::soci_error*>(&e)) {
    return loggable_message(*db_error);
  }
  return e.what();
}

std::string statement_name(const std::string& sql) {
  std::vector<std::string> w = sql_words(sql, 64);
  if (w.empty()) {
    return "";
  }
  const std::string& verb = w[0];
  auto after = [&](const char* keyword) -> std::string {
    for (size_t i = 1; i + 1 < w.size(); ++i) {
      if (w[i] == keyword) {
        return verb + " " + w[i + 1];
      }
    }
    return verb;
  };
  if (verb == "insert") {
    return after("into");
  }
  if (verb == "delete") {
    return after("from");
  }
  if (verb == "update") {
    return w.size() > 1 ? verb + " " + w[1] : verb;
  }
  if (verb == "select") {
    std::string from = after("from");
    if (from != verb) {
      return from;
    }
    return w.size() > 1 ? verb + " " + w[1] : verb;  // a function call
  }
  return verb;
}

}  // namespace portcullis
