#include "app/auth/passwords.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

#include <argon2.h>

#include "app/crypto/random.h"

namespace portcullis {

// Defined in the generated source (cmake/password_blocklist.cmake): the raw,
// de-duplicated entries of the public common-password lists.
namespace internal {
extern const char* const kPasswordBlocklistRaw[];
extern const size_t kPasswordBlocklistRawCount;
}  // namespace internal

namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kTagBytes = 32;
constexpr uint32_t kArgon2Version = ARGON2_VERSION_13;  // 0x13 = 19
// Sanity caps for stored hashes: a corrupt or hostile row must not make a
// worker allocate gigabytes or spin for minutes.
constexpr uint32_t kMaxMemoryKib = 1U << 20;  // 1 GiB
constexpr uint32_t kMaxPasses = 64;
constexpr uint32_t kMaxLanes = 64;
// A normalised password shorter than this was mostly padding.
constexpr size_t kMinNormalisedCodePoints = 3;
// Context words shorter than this are only compared for equality.
constexpr size_t kMinContextWordCodePoints = 4;
constexpr std::string_view kProductName = "portcullis";

std::atomic<uint64_t> g_verifications{0};

// ---- PHC strings -------------------------------------------------------------

struct PhcHash {
  std::string algorithm;  // "argon2id", "argon2i", ...
  uint32_t version = 0;   // 0x10 when the string has no v= field
  uint32_t m_kib = 0;
  uint32_t t = 0;
  uint32_t p = 0;
  size_t salt_bytes = 0;
  size_t tag_bytes = 0;
};

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

// "name=<decimal uint32>" → the number. No sign, no spaces, no overflow.
std::optional<uint32_t> parse_field(std::string_view field, std::string_view name) {
  if (field.size() <= name.size() + 1 || field.substr(0, name.size()) != name ||
      field[name.size()] != '=') {
    return std::nullopt;
  }
  std::string_view digits = field.substr(name.size() + 1);
  if (digits.size() > 10) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > UINT32_MAX) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

// Length of the bytes an unpadded standard-base64 field encodes, or nullopt.
std::optional<size_t> b64_field_bytes(std::string_view field) {
  if (field.empty() || field.size() % 4 == 1) {
    return std::nullopt;
  }
  for (char c : field) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) {
      return std::nullopt;
    }
  }
  return field.size() * 3 / 4;
}

// Parses $<alg>[$v=<n>]$m=<n>,t=<n>,p=<n>$<salt>$<tag>. Does not check the tag.
std::optional<PhcHash> parse_phc(std::string_view phc) {
  std::vector<std::string_view> parts = split(phc, '$');
  if ((parts.size() != 5 && parts.size() != 6) || !parts[0].empty()) {
    return std::nullopt;
  }
  PhcHash out;
  out.algorithm = std::string(parts[1]);
  size_t next = 2;
  out.version = ARGON2_VERSION_10;
  if (parts.size() == 6) {
    std::optional<uint32_t> v = parse_field(parts[next++], "v");
    if (!v) {
      return std::nullopt;
    }
    out.version = *v;
  }
  std::vector<std::string_view> costs = split(parts[next++], ',');
  if (costs.size() != 3) {
    return std::nullopt;
  }
  std::optional<uint32_t> m = parse_field(costs[0], "m");
  std::optional<uint32_t> t = parse_field(costs[1], "t");
  std::optional<uint32_t> p = parse_field(costs[2], "p");
  std::optional<size_t> salt = b64_field_bytes(parts[next++]);
  std::optional<size_t> tag = b64_field_bytes(parts[next++]);
  if (!m || !t || !p || !salt || !tag) {
    return std::nullopt;
  }
  out.m_kib = *m;
  out.t = *t;
  out.p = *p;
  out.salt_bytes = *salt;
  out.tag_bytes = *tag;
  return out;
}

// ---- UTF-8 and character classes ------------------------------------------------

// Byte length of the UTF-8 sequence that starts with `lead`. A stray
// continuation or invalid byte counts as one.
size_t sequence_length(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF7) {
    return 4;
  }
  if (lead >= 0xE0) {
    return lead <= 0xEF ? 3 : 1;
  }
  if (lead >= 0xC0) {
    return 2;
  }
  return 1;
}

std::vector<std::string_view> code_points(std::string_view text) {
  std::vector<std::string_view> out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t n = std::min(sequence_length(static_cast<unsigned char>(text[i])), text.size() - i);
    out.push_back(text.substr(i, n));
    i += n;
  }
  return out;
}

size_t count_code_points(std::string_view text) { return code_points(text).size(); }

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

bool is_ascii_punct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_padding(char c) { return is_ascii_digit(c) || is_ascii_punct(c) || is_ascii_space(c); }

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// ---- block list ------------------------------------------------------------------

const std::unordered_set<std::string>& blocklist() {
  static const std::unordered_set<std::string> set = [] {
    std::unordered_set<std::string> s;
    s.reserve(internal::kPasswordBlocklistRawCount);
    for (size_t i = 0; i < internal::kPasswordBlocklistRawCount; ++i) {
      std::string n = normalise_for_blocklist(internal::kPasswordBlocklistRaw[i]);
      // Shorter forms are refused by length alone; keeping them would only
      // inflate blocklist_size().
      if (count_code_points(n) >= kMinNormalisedCodePoints) {
        s.insert(std::move(n));
      }
    }
    return s;
  }();
  return set;
}

// Keyboard rows and columns (US QWERTY, QWERTZ, AZERTY) and the alphabet. A
// normalised password that is a piece of one of these, forwards or backwards,
// is a walk.
constexpr std::array<std::string_view, 6> kWalks = {
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "abcdefghijklmnopqrstuvwxyz",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
};

bool is_walk(std::string_view normalised) {
  static const std::vector<std::string> walks = [] {
    std::vector<std::string> all;
    for (std::string_view walk : kWalks) {
      all.emplace_back(walk);
      all.emplace_back(walk.rbegin(), walk.rend());
    }
    return all;
  }();
  return std::any_of(walks.begin(), walks.end(), [&](const std::string& walk) {
    return walk.find(normalised) != std::string::npos;
  });
}

bool is_weak_core(std::string_view normalised) {
  return count_code_points(normalised) < kMinNormalisedCodePoints ||
         blocklist().count(std::string(normalised)) > 0 || is_walk(normalised);
}

bool is_blocklisted(const std::string& password) {
  std::string n = normalise_for_blocklist(password);
  if (is_weak_core(n)) {
    return true;
  }
  // A repetition of a weak unit: "iloveyouiloveyou", "abcabcabcabcabc".
  for (size_t unit = 1; unit <= n.size() / 2; ++unit) {
    if (n.size() % unit != 0) {
      continue;
    }
    std::string_view head(n.data(), unit);
    bool periodic = true;
    for (size_t i = unit; i < n.size() && periodic; i += unit) {
      periodic = std::string_view(n).substr(i, unit) == head;
    }
    if (periodic && is_weak_core(head)) {
      return true;
    }
  }
  return false;
}

// ---- context words ---------------------------------------------------------------

// The word itself and its pieces split at padding characters.
std::vector<std::string> context_pieces(const std::string& word) {
  const std::string lower = ascii_lower(word);
  std::vector<std::string> pieces{lower};
  std::string current;
  for (char c : lower) {
    if (is_padding(c)) {
      if (!current.empty()) {
        pieces.push_back(current);
        current.clear();
      }
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) {
    pieces.push_back(current);
  }
  return pieces;
}

bool contains_context_word(const std::string& password,
                           const std::vector<std::string>& context_words) {
  const std::string lower = ascii_lower(password);
  const std::string normalised = normalise_for_blocklist(password);
  std::vector<std::string> words = context_words;
  words.emplace_back(kProductName);
  for (const std::string& word : words) {
    for (const std::string& piece : context_pieces(word)) {
      std::string piece_normalised = normalise_for_blocklist(piece);
      if (!piece_normalised.empty() && piece_normalised == normalised) {
        return true;
      }
      if (count_code_points(piece) < kMinContextWordCodePoints) {
        continue;
      }
      if (lower.find(piece) != std::string::npos) {
        return true;
      }
      // "AAcmmee-rocks…" still holds "acme" once both sides are normalised.
      if (count_code_points(piece_normalised) >= kMinContextWordCodePoints &&
          normalised.find(piece_normalised) != std::string::npos) {
        return true;
      }
    }
  }
  return false;
}

// ---- dummy hash --------------------------------------------------------------------

struct DummyHash {
  std::mutex mutex;
  std::optional<Argon2Params> params;
  std::string phc;
};

DummyHash& dummy_hash() {
  static DummyHash dummy;
  return dummy;
}

bool same_params(const Argon2Params& a, const Argon2Params& b) {
  return a.m_kib == b.m_kib && a.t == b.t && a.p == b.p;
}

}  // namespace

// ---- hashing -------------------------------------------------------------------------

std::string hash_password(const std::string& password, const Argon2Params& params) {
  const std::string salt = random_bytes(kSaltBytes);
  std::string encoded(
      argon2_encodedlen(params.t, params.m_kib, params.p, kSaltBytes, kTagBytes, Argon2_id), '\0');
  const int rc =
      argon2id_hash_encoded(params.t, params.m_kib, params.p, password.data(), password.size(),
                            salt.data(), salt.size(), kTagBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    throw std::runtime_error(std::string("argon2id_hash_encoded failed: ") +
                             argon2_error_message(rc));
  }
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

bool verify_password(const std::string& password, const std::string& phc) {
  g_verifications.fetch_add(1, std::memory_order_relaxed);
  std::optional<PhcHash> parsed = parse_phc(phc);
  if (!parsed || parsed->algorithm != "argon2id" || parsed->m_kib > kMaxMemoryKib ||
      parsed->t > kMaxPasses || parsed->p > kMaxLanes) {
    return false;
  }
  // argon2id_verify recomputes the tag and compares it in constant time.
  return argon2id_verify(phc.c_str(), password.data(), password.size()) == ARGON2_OK;
}

bool needs_rehash(const std::string& phc, const Argon2Params& params) {
  std::optional<PhcHash> parsed = parse_phc(phc);
  return !parsed || parsed->algorithm != "argon2id" || parsed->version != kArgon2Version ||
         parsed->m_kib != params.m_kib || parsed->t != params.t || parsed->p != params.p ||
         parsed->salt_bytes < kSaltBytes || parsed->tag_bytes != kTagBytes;
}

void verify_dummy(const std::string& password, const Argon2Params& params) {
  std::string phc;
  {
    DummyHash& dummy = dummy_hash();
    std::lock_guard<std::mutex> lock(dummy.mutex);
    if (!dummy.params || !same_params(*dummy.params, params)) {
      dummy.phc = hash_password(random_hex(16), params);
      dummy.params = params;
    }
    phc = dummy.phc;
  }
  // Same work as verify_password, result thrown away.
  g_verifications.fetch_add(1, std::memory_order_relaxed);
  (void)argon2id_verify(phc.c_str(), password.data(), password.size());
}

uint64_t verification_count() { return g_verifications.load(std::memory_order_relaxed); }

// ---- policy ----------------------------------------------------------------------------

std::string normalise_for_blocklist(const std::string& text) {
  const std::string lower = ascii_lower(text);
  size_t begin = 0;
  size_t end = lower.size();
  while (begin < end && is_padding(lower[begin])) {
    ++begin;
  }
  while (end > begin && is_padding(lower[end - 1])) {
    --end;
  }
  std::string out;
  out.reserve(end - begin);
  std::string_view previous;
  for (std::string_view cp : code_points(std::string_view(lower).substr(begin, end - begin))) {
    if (cp != previous) {
      out.append(cp);
      previous = cp;
    }
  }
  return out;
}

size_t blocklist_size() { return blocklist().size(); }

PasswordProblem check_password_policy(const std::string& password,
                                      const std::vector<std::string>& context_words,
                                      size_t min_code_points) {
  const size_t length = count_code_points(password);
  if (length < min_code_points) {
    return PasswordProblem::kTooShort;
  }
  if (length > kMaxPasswordCodePoints) {
    return PasswordProblem::kTooLong;
  }
  if (contains_context_word(password, context_words)) {
    return PasswordProblem::kContextWord;
  }
  if (is_blocklisted(password)) {
    return PasswordProblem::kBlocklisted;
  }
  return PasswordProblem::kNone;
}

}  // namespace portcullis
