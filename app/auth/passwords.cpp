#include "app/auth/passwords.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
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
  std::string_view salt_b64;  // views into the parsed string
  std::string_view tag_b64;
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
  // Minimal decimal only, as libargon2's decoder demands: "019456" is not a number here.
  if (digits.size() > 10 || (digits.size() > 1 && digits[0] == '0')) {
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

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  return c == '/' ? 63 : -1;
}

// Unpadded standard base64 → bytes, as strict as libargon2's decoder: a length of 1 mod 4
// or non-zero leftover bits is refused, so each byte string has exactly one encoding.
std::optional<std::string> b64_decode_strict(std::string_view field) {
  std::string out;
  out.reserve(field.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : field) {
    const int v = b64_value(c);
    if (v < 0) {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFU));
    }
  }
  if (bits > 4 || (acc & ((1U << bits) - 1U)) != 0) {
    return std::nullopt;
  }
  return out;
}

std::string b64_encode_unpadded(const uint8_t* data, size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < size; ++i) {
    acc = (acc << 8) | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3FU]);
    }
  }
  if (bits > 0) {
    out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3FU]);
  }
  return out;
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
  out.salt_b64 = parts[next - 2];
  out.tag_b64 = parts[next - 1];
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

// ---- Argon2id working memory ------------------------------------------------------------

constexpr size_t kHugePageBytes = size_t{2} << 20;

std::atomic<int> g_memory_mode{-1};  // an Argon2Memory, or -1 for default_argon2_memory()
std::atomic<bool> g_release_when_idle{false};

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// The calling thread's kept mapping. libargon2's callbacks carry no user pointer, so the
// arena is per thread (a worker has one thread, hence one arena).
struct Arena {
  uint8_t* base = nullptr;
  size_t bytes = 0;
  bool huge_aligned = false;      // made for kArenaHugePages (2 MiB aligned)
  bool huge_page_advice = false;  // MADV_HUGEPAGE accepted
  bool in_use = false;
  bool resident = false;  // holds (wiped) pages of a hash, not yet given back
  uint64_t hashes = 0;
  Argon2Memory mode = Argon2Memory::kArena;  // of the hash running now

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() { unmap(); }

  void unmap() {
    if (base != nullptr) {
      munmap(base, bytes);
    }
    base = nullptr;
    bytes = 0;
    resident = false;
    huge_aligned = false;
    huge_page_advice = false;
  }

  // A fresh mapping of `need` bytes (a multiple of the page size, or of 2 MiB when huge).
  bool map(size_t need, bool huge) {
    unmap();
    const size_t slack = huge ? kHugePageBytes : 0;
    void* raw =
        mmap(nullptr, need + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
      return false;
    }
    auto* p = static_cast<uint8_t*>(raw);
    if (huge) {
      // Trim the mapping to a 2 MiB boundary on both sides, so each 2 MiB of it can be
      // one huge page.
      const auto addr = reinterpret_cast<uintptr_t>(p);
      const size_t head = round_up(addr, kHugePageBytes) - addr;
      if (head > 0) {
        munmap(p, head);
      }
      if (slack - head > 0) {
        munmap(p + head + need, slack - head);
      }
      p += head;
      huge_page_advice = madvise(p, need, MADV_HUGEPAGE) == 0;
    }
    base = p;
    bytes = need;
    huge_aligned = huge;
    return true;
  }
};

thread_local Arena t_arena;

int arena_allocate(uint8_t** memory, size_t bytes) {
  Arena& arena = t_arena;
  const bool huge = arena.mode == Argon2Memory::kArenaHugePages;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t need = round_up(bytes, huge ? kHugePageBytes : page);
  if (arena.mode == Argon2Memory::kPerHash || need > kMaxArenaBytes || arena.in_use) {
    // A stored hash with a large m (up to the 1 GiB cap): a mapping of its own, not kept.
    void* one_off = mmap(nullptr, round_up(bytes, page), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (one_off == MAP_FAILED) {
      return ARGON2_MEMORY_ALLOCATION_ERROR;
    }
    *memory = static_cast<uint8_t*>(one_off);
    return ARGON2_OK;
  }
  if (arena.base == nullptr || arena.bytes < need || arena.huge_aligned != huge) {
    if (!arena.map(need, huge)) {
      return ARGON2_MEMORY_ALLOCATION_ERROR;
    }
  }
  if (arena.mode == Argon2Memory::kArenaPrefault) {
    // One call faults every page in. EINVAL before Linux 5.14: the page faults happen
    // one by one as the hash touches the pages, as in kArena.
    (void)madvise(arena.base, need, MADV_POPULATE_WRITE);
  }
  arena.in_use = true;
  arena.resident = true;
  ++arena.hashes;
  *memory = arena.base;
  return ARGON2_OK;
}

void arena_free(uint8_t* memory, size_t bytes) {
  // libargon2 has already wiped these bytes: its free_memory() runs clear_internal_memory()
  // (secure_wipe_memory, under FLAG_clear_internal_memory, which is 1 and not reachable from
  // outside the shared library) before it calls this. Debug builds check that it did.
#ifndef NDEBUG
  static const std::array<uint8_t, 4096> kZeros{};
  for (size_t off = 0; off < bytes; off += kZeros.size()) {
    if (std::memcmp(memory + off, kZeros.data(), std::min(kZeros.size(), bytes - off)) != 0) {
      std::abort();  // password-derived memory released unwiped: a libargon2 change broke us
    }
  }
#endif
  Arena& arena = t_arena;
  if (memory != arena.base) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    munmap(memory, round_up(bytes, page));
    return;
  }
  arena.in_use = false;
  if (!g_release_when_idle.load(std::memory_order_relaxed)) {
    release_argon2_memory();
  }
}

// One Argon2id computation of `ctx` in the process's memory mode. verify: compare the
// result with `expected_tag` in constant time (libargon2's argon2_verify_ctx).
int run_argon2id(argon2_context& ctx, const uint8_t* expected_tag) {
  t_arena.mode = argon2_memory();
  ctx.allocate_cbk = arena_allocate;
  ctx.free_cbk = arena_free;
  const int rc =
      expected_tag == nullptr
          ? argon2id_ctx(&ctx)
          : argon2_verify_ctx(&ctx, reinterpret_cast<const char*>(expected_tag), Argon2_id);
  Arena& arena = t_arena;
  if (arena.in_use) {
    // libargon2 returned without freeing (a lane thread it could not start): wipe and
    // release here, so the arena is never left holding password-derived memory.
    explicit_bzero(arena.base, arena.bytes);
    arena.in_use = false;
    release_argon2_memory();
  }
  return rc;
}

argon2_context make_context(
    const std::string& password, uint32_t version, uint32_t m_kib, uint32_t t, uint32_t p) {
  argon2_context ctx{};
  ctx.pwd = reinterpret_cast<uint8_t*>(const_cast<char*>(password.data()));
  ctx.pwdlen = static_cast<uint32_t>(password.size());
  ctx.t_cost = t;
  ctx.m_cost = m_kib;
  ctx.lanes = p;
  ctx.threads = p;
  ctx.version = version;
  ctx.flags = ARGON2_DEFAULT_FLAGS;
  return ctx;
}

// Recomputes the tag of `phc` for `password` and compares it in constant time. Returns
// false for anything malformed (the same strings libargon2's argon2id_verify refused).
bool verify_phc(const std::string& password, const PhcHash& parsed) {
  std::optional<std::string> salt = b64_decode_strict(parsed.salt_b64);
  std::optional<std::string> tag = b64_decode_strict(parsed.tag_b64);
  if (!salt || !tag || password.size() > UINT32_MAX) {
    return false;
  }
  std::string computed(tag->size(), '\0');
  argon2_context ctx = make_context(password, parsed.version, parsed.m_kib, parsed.t, parsed.p);
  ctx.salt = reinterpret_cast<uint8_t*>(salt->data());
  ctx.saltlen = static_cast<uint32_t>(salt->size());
  ctx.out = reinterpret_cast<uint8_t*>(computed.data());
  ctx.outlen = static_cast<uint32_t>(computed.size());
  const int rc = run_argon2id(ctx, reinterpret_cast<const uint8_t*>(tag->data()));
  explicit_bzero(computed.data(), computed.size());  // derived from the password
  return rc == ARGON2_OK;
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

// ---- Argon2id memory modes -----------------------------------------------------------------

bool transparent_huge_pages_available() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(in, line)) {
    return false;
  }
  return line.find("[always]") != std::string::npos || line.find("[madvise]") != std::string::npos;
}

Argon2Memory default_argon2_memory() {
  static const Argon2Memory mode =
      transparent_huge_pages_available() ? Argon2Memory::kArenaHugePages : Argon2Memory::kArena;
  return mode;
}

std::optional<Argon2Memory> parse_argon2_memory(std::string_view name) {
  if (name == "auto") {
    return default_argon2_memory();
  }
  for (Argon2Memory mode : {Argon2Memory::kPerHash, Argon2Memory::kArena,
                            Argon2Memory::kArenaPrefault, Argon2Memory::kArenaHugePages}) {
    if (name == argon2_memory_name(mode)) {
      return mode;
    }
  }
  return std::nullopt;
}

const char* argon2_memory_name(Argon2Memory mode) {
  switch (mode) {
    case Argon2Memory::kPerHash:
      return "per-hash";
    case Argon2Memory::kArena:
      return "arena";
    case Argon2Memory::kArenaPrefault:
      return "arena-prefault";
    case Argon2Memory::kArenaHugePages:
      return "arena-hugepages";
  }
  return "unknown";
}

void set_argon2_memory(Argon2Memory mode) {
  g_memory_mode.store(static_cast<int>(mode), std::memory_order_relaxed);
}

Argon2Memory argon2_memory() {
  const int mode = g_memory_mode.load(std::memory_order_relaxed);
  return mode < 0 ? default_argon2_memory() : static_cast<Argon2Memory>(mode);
}

Argon2ArenaInfo argon2_arena_info() {
  const Arena& arena = t_arena;
  return Argon2ArenaInfo{arena.base, arena.bytes, arena.huge_page_advice, arena.hashes};
}

void set_argon2_release(Argon2Release release) {
  g_release_when_idle.store(release == Argon2Release::kWhenIdle, std::memory_order_relaxed);
}

Argon2Release argon2_release() {
  return g_release_when_idle.load(std::memory_order_relaxed) ? Argon2Release::kWhenIdle
                                                             : Argon2Release::kAfterEachHash;
}

bool argon2_memory_resident() { return t_arena.resident; }

bool release_argon2_memory() {
  Arena& arena = t_arena;
  if (!arena.resident || arena.in_use) {
    return false;
  }
  // The pages go back to the OS (RSS drops; the next touch gets zero-filled pages) and the
  // mapping stays for the next hash. libargon2 wiped them already (arena_free).
  (void)madvise(arena.base, arena.bytes, MADV_DONTNEED);
  arena.resident = false;
  return true;
}

// ---- hashing -------------------------------------------------------------------------

namespace internal {

std::string hash_password_with_salt(const std::string& password,
                                    const std::string& salt,
                                    const Argon2Params& params) {
  if (password.size() > UINT32_MAX || salt.size() > UINT32_MAX) {
    throw std::runtime_error("hash_password: input too long");
  }
  std::array<uint8_t, kTagBytes> tag{};
  argon2_context ctx = make_context(password, kArgon2Version, params.m_kib, params.t, params.p);
  std::string salt_copy = salt;  // libargon2 takes a non-const pointer
  ctx.salt = reinterpret_cast<uint8_t*>(salt_copy.data());
  ctx.saltlen = static_cast<uint32_t>(salt_copy.size());
  ctx.out = tag.data();
  ctx.outlen = static_cast<uint32_t>(tag.size());
  const int rc = run_argon2id(ctx, nullptr);
  if (rc != ARGON2_OK) {
    throw std::runtime_error(std::string("argon2id_ctx failed: ") + argon2_error_message(rc));
  }
  // The PHC string exactly as libargon2's encoder writes it (argon2id_hash_encoded and the
  // `argon2` CLI): $argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<tag>, unpadded base64.
  std::string phc =
      "$argon2id$v=" + std::to_string(kArgon2Version) + "$m=" + std::to_string(params.m_kib) +
      ",t=" + std::to_string(params.t) + ",p=" + std::to_string(params.p) + "$" +
      b64_encode_unpadded(reinterpret_cast<const uint8_t*>(salt.data()), salt.size()) + "$" +
      b64_encode_unpadded(tag.data(), tag.size());
  return phc;
}

}  // namespace internal

std::string hash_password(const std::string& password, const Argon2Params& params) {
  return internal::hash_password_with_salt(password, random_bytes(kSaltBytes), params);
}

bool verify_password(const std::string& password, const std::string& phc) {
  g_verifications.fetch_add(1, std::memory_order_relaxed);
  std::optional<PhcHash> parsed = parse_phc(phc);
  if (!parsed || parsed->algorithm != "argon2id" || parsed->m_kib > kMaxMemoryKib ||
      parsed->t > kMaxPasses || parsed->p > kMaxLanes) {
    return false;
  }
  // libargon2 recomputes the tag and compares it in constant time (argon2_verify_ctx).
  return verify_phc(password, *parsed);
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
  std::optional<PhcHash> parsed = parse_phc(phc);
  if (parsed) {
    (void)verify_phc(password, *parsed);
  }
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
