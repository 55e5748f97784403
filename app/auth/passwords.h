// Password hashing and password policy (DESIGN §7; SECURITY-BAR AUTH-1, AUTH-2,
// AUTH-3, AUTH-6, AUTH-10).
//
// Hashing: Argon2id through libargon2, stored as a PHC string
//   $argon2id$v=19$m=19456,t=2,p=1$<salt, 16 B>$<tag, 32 B>
// (unpadded standard base64, as libargon2 and the `argon2` CLI write it). The
// salt comes from getrandom(2). This file writes and parses the PHC string
// (byte for byte what libargon2's encoder writes and as strict as its decoder)
// so that libargon2 can run on memory we hand it (Argon2Memory below);
// verification is libargon2's argon2_verify_ctx, which compares tags in
// constant time (AUTH-10).
//
// Policy: length in Unicode code points (15..128 by default), no composition
// rules, no truncation; a block list of common passwords and a list of context
// words. Expected outcomes are values (PasswordProblem, bool); only a failure of
// the machine (getrandom, out of memory in libargon2) throws.
//
// The passwords given here are the exact bytes to hash. Callers that want the
// NFKC normalisation of AUTH-1 apply it before calling, the same way at
// registration and at login.
//
// Thread safety: every function may be called from several threads; the lazily
// built block list and dummy hash are guarded, and each thread has its own
// Argon2id arena.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis {

// Argon2id cost. The defaults are the floor of DESIGN §7 / AUTH-3
// (OWASP's m = 19 MiB, t = 2, p = 1); the alternative m = 12288, t = 3 is
// equally acceptable.
struct Argon2Params {
  uint32_t m_kib = 19456;  // memory in KiB
  uint32_t t = 2;          // passes
  uint32_t p = 1;          // lanes
};

// Hashes `password` with a fresh 16-byte salt and a 32-byte tag and returns the
// PHC string. Takes as long as one verification (tens of ms at the defaults).
// Throws std::runtime_error if getrandom or libargon2 fails (e.g. out of
// memory, or params outside libargon2's limits).
[[nodiscard]] std::string hash_password(const std::string& password,
                                        const Argon2Params& params = {});

// True iff `phc` is a well-formed $argon2id$ PHC string and `password` matches
// it (constant-time tag comparison). False on any malformed, truncated or
// non-argon2id string, and on a string whose cost is beyond sanity
// (m > 1 GiB, t > 64 or p > 64), so a corrupt row cannot exhaust memory.
// Never throws.
[[nodiscard]] bool verify_password(const std::string& password, const std::string& phc);

// True when `phc` should be replaced by a fresh hash_password(password, params)
// after a successful login (AUTH-3): it is not an argon2id PHC string, its
// version is not 0x13 (19), or its m, t or p differ from `params`, or its salt
// is shorter than 16 bytes or its tag is not 32 bytes. Never throws.
[[nodiscard]] bool needs_rehash(const std::string& phc, const Argon2Params& params = {});

// Runs one Argon2id verification of `password` against a per-process dummy hash
// made with `params`, and discards the result: the unknown-e-mail path of a
// login costs the same as a wrong password (AUTH-6). The dummy hash is made on
// the first call (and again when `params` change), which costs one extra hash:
// call it once at worker start-up to keep that off the request path. Throws
// only as hash_password does, when making the dummy hash fails.
void verify_dummy(const std::string& password, const Argon2Params& params = {});

// Number of calls to verify_password and verify_dummy in this process, whatever
// their outcome (a malformed stored hash counts too). For tests of AUTH-6 and
// RATE-1: both login paths must add exactly one.
[[nodiscard]] uint64_t verification_count();

// ---- Argon2id working memory (DESIGN §2) ----------------------------------------
//
// One Argon2id computation needs m_kib of working memory (19 MiB at the defaults).
// Where it comes from decides both the login rate and a worker's RSS between logins:
enum class Argon2Memory {
  // A fresh mapping per hash: mmap, one page fault per 4 KiB page (about 4 900), munmap.
  // What libargon2's malloc/free did in a worker before (its mallopt(M_MMAP_THRESHOLD) sends
  // the 19 MiB to mmap).
  kPerHash,
  // A mapping kept per thread and reused. After each hash libargon2 has wiped it, and
  // madvise(MADV_DONTNEED) hands its pages back to the OS: RSS returns to the baseline
  // while the mapping stays (no mmap/munmap per hash; the page faults remain). Works
  // wherever mmap works: the fallback of the two below.
  kArena,
  // kArena, plus madvise(MADV_POPULATE_WRITE) before each hash, which faults every page in
  // with one call instead of one trap per page. Falls back to kArena's faults where the
  // kernel lacks it (before Linux 5.14).
  kArenaPrefault,
  // kArena on a 2 MiB aligned mapping with madvise(MADV_HUGEPAGE): with transparent huge
  // pages on, about 10 faults of 2 MiB per hash instead of about 4 900 of 4 KiB. Where THP
  // are off the advice is ignored and this is kArena.
  kArenaHugePages,
};

// What the kernel offers, from /sys/kernel/mm/transparent_hugepage/enabled: true when it
// says [always] or [madvise] (MADV_HUGEPAGE is honoured), false for [never] or no file.
[[nodiscard]] bool transparent_huge_pages_available();

// The mode `auto` stands for: kArenaHugePages where transparent_huge_pages_available(),
// else kArena.
[[nodiscard]] Argon2Memory default_argon2_memory();

// "auto" → default_argon2_memory(); "per-hash", "arena", "arena-prefault",
// "arena-hugepages" → that mode; anything else → nullopt.
[[nodiscard]] std::optional<Argon2Memory> parse_argon2_memory(std::string_view name);
[[nodiscard]] const char* argon2_memory_name(Argon2Memory mode);

// The mode every later hash_password, verify_password and verify_dummy in this process
// uses (default: default_argon2_memory()). A worker sets it once at start-up; tests and
// benchmarks switch it to compare the modes. Whatever the mode, the PHC string and the
// verdicts are the same.
void set_argon2_memory(Argon2Memory mode);
[[nodiscard]] Argon2Memory argon2_memory();

// The calling thread's kept mapping (every arena mode shares it). base is null until a
// hash in an arena mode ran on this thread. A request larger than kMaxArenaBytes gets a
// mapping of its own, unmapped after the hash, and leaves the arena alone.
struct Argon2ArenaInfo {
  const void* base = nullptr;
  size_t bytes = 0;               // length of the mapping
  bool huge_page_advice = false;  // MADV_HUGEPAGE was accepted for it
  uint64_t hashes = 0;            // hashes that ran in it
};
inline constexpr size_t kMaxArenaBytes = size_t{64} << 20;
[[nodiscard]] Argon2ArenaInfo argon2_arena_info();

// When an arena's pages go back to the OS (its mapping stays either way). Process-wide; the
// default is kAfterEachHash.
enum class Argon2Release {
  kAfterEachHash,  // at the end of every hash: RSS is back at the baseline between logins
  // only when the owner calls release_argon2_memory(): a worker does once it has waited a
  // second for its next request, so back-to-back logins reuse resident (wiped) pages with no
  // page fault at all, and an idle worker still holds none of them.
  kWhenIdle,
};
void set_argon2_release(Argon2Release release);
[[nodiscard]] Argon2Release argon2_release();

// True while the calling thread's arena holds pages of a finished hash not given back yet
// (only under kWhenIdle). Those pages were wiped by libargon2 when the hash ended.
[[nodiscard]] bool argon2_memory_resident();

// Gives the calling thread's arena pages back to the OS (madvise MADV_DONTNEED). Returns
// whether there were any. Never throws.
bool release_argon2_memory();

namespace internal {
// hash_password with the given salt instead of a fresh one. For tests that compare the PHC
// string with libargon2's own encoder and the `argon2` CLI; never for storing a password.
[[nodiscard]] std::string hash_password_with_salt(const std::string& password,
                                                  const std::string& salt,
                                                  const Argon2Params& params);
}  // namespace internal

// ---- policy (AUTH-1, AUTH-2) ---------------------------------------------------

enum class PasswordProblem {
  kNone,         // acceptable
  kTooShort,     // fewer than min_code_points code points
  kTooLong,      // more than kMaxPasswordCodePoints code points
  kBlocklisted,  // a common password, a keyboard walk, a repetition, or mostly padding
  kContextWord,  // contains the product, tenant or user name
};

inline constexpr size_t kMinPasswordCodePoints = 15;  // single factor (63B §3.1.1.2)
inline constexpr size_t kMinPasswordCodePointsWithMfa = 8;
inline constexpr size_t kMaxPasswordCodePoints = 128;

// Checks a new or changed password. Checks run in this order and the first
// problem found is returned:
//  1. length in code points: < min_code_points → kTooShort, > 128 → kTooLong
//     (min_code_points is 15, or 8 in a tenant that requires MFA);
//  2. context words → kContextWord. The words are those given (callers pass the
//     tenant name and the e-mail local part) plus "portcullis". A word, and each
//     piece of it split at padding (ASCII digits, punctuation, whitespace), that
//     has ≥ 4 code points must not occur in the password (ASCII case-insensitive), nor its
//     normalised form (below, if still ≥ 4 code points) in the normalised
//     password. Also, the normalised password must not equal a normalised word
//     or piece, whatever its length;
//  3. block list → kBlocklisted, on the normalised form N of the password:
//     N shorter than 3 code points (the password was mostly padding, e.g.
//     "1234567890123456"); N equal to a normalised list entry; N a piece of a
//     keyboard or alphabet walk ("qwertyuiopasdfgh", "abcdefghijklmnop",
//     "1qaz2wsx3edc4rfv", and reversed); or N a repetition of a shorter unit
//     that fails one of these tests ("iloveyouiloveyou", "abcabcabcabcabc").
// REQUIRES: `password` is valid UTF-8 (the JSON layer guarantees it).
[[nodiscard]] PasswordProblem check_password_policy(
    const std::string& password,
    const std::vector<std::string>& context_words,
    size_t min_code_points = kMinPasswordCodePoints);

// The normalisation used for the block list, applied alike to list entries and
// to candidate passwords:
//  1. lower-case ASCII letters (other bytes are kept as they are);
//  2. strip leading and trailing padding: ASCII digits, punctuation and
//     whitespace;
//  3. collapse each run of the same code point to one.
// So "password1234567890", "Password!!!!!!!!!!" and "ppaasssswwoorrdd2024" all
// give "pasword", as does "password". Exposed for tests.
[[nodiscard]] std::string normalise_for_blocklist(const std::string& text);

// Number of distinct normalised entries (of ≥ 3 code points) in the embedded
// block list. The first call builds the list (about 30 000 entries, a few ms);
// calling it in the master before fork() shares the built set with workers.
[[nodiscard]] size_t blocklist_size();

}  // namespace portcullis
