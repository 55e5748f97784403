#include "app/cli/keys.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <optional>

#include <rapidjson/document.h>
#include <soci/soci.h>

#include "app/config/config.h"
#include "app/crypto/aead.h"
#include "app/crypto/blind_index.h"
#include "app/crypto/random.h"
#include "app/crypto/worker_keys.h"
#include "app/db/connection.h"
#include "app/db/errors.h"
#include "app/db/tenant_tx.h"
#include "app/db/tx.h"
#include "app/log/audit.h"
#include "app/log/integrity.h"
#include "app/log/logger.h"
#include "app/store/audit.h"
#include "app/store/memories.h"

namespace portcullis {
namespace {

constexpr int kExitUsage = 64;
constexpr int kExitFailure = 1;
constexpr int kDefaultBatch = 500;
constexpr int kMaxBatch = 100000;
// "v1." + a key id of at most 32 characters + "." fits in this many.
constexpr int kBlobPrefixChars = 40;
// A lower bound for every UUID, so the first keyset page needs no special case.
constexpr const char* kNilUuid = "00000000-0000-0000-0000-000000000000";

// Every encrypted column. The names are spliced into SQL text (identifiers
// cannot be bound): they come from this table only, never from input.
struct EncryptedColumn {
  const char* table;
  const char* column;
};
constexpr std::array<EncryptedColumn, 2> kEncryptedColumns = {{
    {"memories", "content_enc"},
    {"users", "totp_secret_enc"},  // NULL until MFA is enrolled; NULLs are skipped
}};

std::string name_of(const EncryptedColumn& c) { return std::string(c.table) + "." + c.column; }

constexpr const char* kUsage =
    "usage: portcullis keys generate [--id ID]\n"
    "       portcullis keys status [--env-file FILE]\n"
    "       portcullis keys reencrypt [--batch N] [--env-file FILE]\n"
    "       portcullis keys reindex [--batch N] [--env-file FILE]\n"
    "\n"
    "generate   print a new field-encryption key as ID:base64key (default ID kYYYYMMDDxxxx)\n"
    "status     count the rows each key id protects, per encrypted column\n"
    "reencrypt  move every row not under PORTCULLIS_DATA_KEY_PRIMARY to it, in batches of N\n"
    "           (default 500), one transaction per batch; safe to interrupt and run again;\n"
    "           then rebuilds the search index (as reindex)\n"
    "reindex    rebuild every memory's search index (blind index) and folded tags under the\n"
    "           current PORTCULLIS_SECRET_KEY: after changing it, or after upgrading to 0012\n"
    "status, reencrypt and reindex connect as PORTCULLIS_DATABASE_OWNER_URL when it is set.\n";

// --name value pairs, only the names in `allowed`. nullopt on anything else.
std::optional<std::map<std::string, std::string>> parse_options(
    const std::vector<std::string>& args, const std::vector<std::string>& allowed) {
  std::map<std::string, std::string> values;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= args.size() ||
        std::find(allowed.begin(), allowed.end(), a.substr(2)) == allowed.end()) {
      return std::nullopt;
    }
    values[a.substr(2)] = args[++i];
  }
  return values;
}

std::string get(const std::map<std::string, std::string>& o, const std::string& name) {
  auto it = o.find(name);
  return it == o.end() ? "" : it->second;
}

// ---------------------------------------------------------------- generate

int keys_generate(const std::map<std::string, std::string>& o) {
  std::string id = get(o, "id");
  if (id.empty()) {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    std::array<char, 16> date{};
    std::strftime(date.data(), date.size(), "%Y%m%d", &utc);
    id = "k" + std::string(date.data()) + random_hex(2);
  }
  if (!valid_key_id(id)) {
    std::fprintf(stderr, "portcullis: a key id is 1-32 characters of A-Z a-z 0-9 _ -\n");
    return kExitUsage;
  }
  std::printf("%s:%s\n", id.c_str(), base64_encode(random_bytes(kAeadKeyBytes)).c_str());
  std::fprintf(stderr,
               "To rotate to this key:\n"
               "  1. append the line above to PORTCULLIS_DATA_KEYS (comma-separated; keep the\n"
               "     old keys: rows written under them must stay readable);\n"
               "  2. set PORTCULLIS_DATA_KEY_PRIMARY=%s and restart portcullis\n"
               "     (new writes then use it);\n"
               "  3. run `portcullis keys reencrypt` to move existing rows to it;\n"
               "  4. remove an old key only after `portcullis keys status` shows 0 rows for it.\n"
               "Keep the key secret: store it as a systemd credential or in the 0600 env file.\n",
               id.c_str());
  return 0;
}

// ------------------------------------------------------- database commands

struct Env {
  Config config;
  Backend backend = Backend::kSqlite;
  std::unique_ptr<Db> db;
};

// Loads the configuration and connects as the schema owner when configured.
// Returns an exit code on failure.
std::optional<int> open_env(const std::map<std::string, std::string>& o, Env* env) {
  try {
    env->config = load_config(ConfigOptions{get(o, "env-file"), true});
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "portcullis: configuration error: %s\n", e.what());
    return kExitConfig;
  }
  init_logging(env->config.log_level);
  const std::string& url = env->config.database_owner_url.empty() ? env->config.database_url
                                                                  : env->config.database_owner_url;
  env->backend = backend_of(url);
  try {
    // Long COUNTs and batches may exceed a request's statement timeout.
    env->db = std::make_unique<Db>(url, DbOptions{600000, env->config.db_busy_timeout_ms});
    env->db->session();  // connect now
  } catch (const std::exception& e) {
    std::fprintf(stderr, "portcullis: keys: cannot open the database: %s\n",
                 loggable_what(e).c_str());
    return kExitFailure;
  }
  return std::nullopt;
}

std::vector<std::string> tenant_ids(soci::session& sql) {
  std::vector<std::string> ids;
  soci::rowset<std::string> rows = (sql.prepare << "SELECT id FROM tenants ORDER BY id");
  for (const std::string& id : rows) {
    ids.push_back(id);
  }
  return ids;
}

// One tenant's unit of work is a TenantTx (app/db/tenant_tx.h): on PostgreSQL
// it sets portcullis.tenant_id for itself only, so the row-level security
// policies apply whatever role we connected as; on SQLite a writing batch is
// a write transaction (BEGIN IMMEDIATE), so it waits for the server's writers
// on the busy timeout instead of failing to upgrade a read lock.

// --------------------------------------------------------------- status

int keys_status(const std::map<std::string, std::string>& o) {
  Env env;
  if (std::optional<int> rc = open_env(o, &env)) {
    return *rc;
  }
  const FieldCipher cipher(env.config.data_keys, env.config.data_key_primary);
  soci::session& sql = env.db->session();
  // column name -> key id ("" = not a v1 blob) -> rows
  std::map<std::string, std::map<std::string, long long>> counts;
  try {
    for (const std::string& tenant : tenant_ids(sql)) {
      TenantTx tx(*env.db, tenant, TxKind::kRead);
      for (const EncryptedColumn& c : kEncryptedColumns) {
        const std::string col = c.column;
        std::map<std::string, long long>& per_key = counts[name_of(c)];
        // Only a short prefix is read: the key id, never the ciphertext.
        soci::rowset<std::string> rows =
            (sql.prepare << "SELECT substr(" + col + ", 1, :n) FROM " + c.table +
                                " WHERE tenant_id = :t AND " + col + " IS NOT NULL",
             soci::use(kBlobPrefixChars), soci::use(tenant));
        for (const std::string& prefix : rows) {
          ++per_key[FieldCipher::key_id_of(prefix).value_or("")];
        }
      }
      tx.commit();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "portcullis: keys status failed: %s\n", loggable_what(e).c_str());
    return kExitFailure;
  }

  std::string ring;
  for (const std::string& id : cipher.key_ids()) {
    ring += (ring.empty() ? "" : ", ") + id + (id == cipher.primary_id() ? " (primary)" : "");
  }
  std::printf("keyring: %s\n\n", ring.c_str());
  std::printf("%-24s %-16s %10s\n", "column", "key id", "rows");
  long long on_primary = 0;
  long long on_other = 0;
  long long unreadable = 0;
  for (const EncryptedColumn& c : kEncryptedColumns) {
    std::map<std::string, long long>& per_key = counts[name_of(c)];
    // Every key of the ring gets a line, 0 included: "0 rows under kold"
    // is what says an old key may be removed.
    std::vector<std::string> ids = cipher.key_ids();
    for (const auto& [id, n] : per_key) {
      if (!cipher.has_key(id)) {
        ids.push_back(id);
      }
    }
    for (const std::string& id : ids) {
      const long long n = per_key[id];
      const char* note = "";
      if (id.empty()) {
        note = "  NOT A v1 BLOB: cannot be decrypted";
        unreadable += n;
      } else if (!cipher.has_key(id)) {
        note = "  NOT IN KEYRING: cannot be decrypted";
        unreadable += n;
      } else if (id == cipher.primary_id()) {
        note = "  primary";
      }
      (id == cipher.primary_id() ? on_primary : on_other) += n;
      std::printf("%-24s %-16s %10lld%s\n", name_of(c).c_str(),
                  id.empty() ? "(malformed)" : id.c_str(), n, note);
    }
  }
  std::printf("\n%lld rows under the primary key %s, %lld under other keys", on_primary,
              cipher.primary_id().c_str(), on_other);
  if (unreadable > 0) {
    std::printf(" (%lld of them unreadable with this keyring)", unreadable);
  }
  std::printf("\n");
  if (on_other > unreadable) {
    std::printf("run `portcullis keys reencrypt` to move them to %s\n",
                cipher.primary_id().c_str());
  }
  return 0;
}

// ------------------------------------------------------------- reencrypt

// `\r[#####.....] 1234/5000 rows` on a terminal; plain lines at every tenth
// (and at the end) otherwise, so a log file is not flooded.
class Progress {
 public:
  explicit Progress(long long total) : total_(total), tty_(::isatty(STDERR_FILENO) != 0) {}

  void advance(long long rows) {
    done_ += rows;
    draw(false);
  }
  // A line of its own above the bar.
  void note(const std::string& line) {
    if (tty_ && drawn_) {
      std::fputs("\r\033[K", stderr);
    }
    std::fprintf(stderr, "%s\n", line.c_str());
    if (tty_ && drawn_) {
      draw(true);
    }
  }
  void finish() {
    draw(true);
    if (tty_) {
      std::fputs("\n", stderr);
    }
  }

 private:
  void draw(bool force) {
    const long long shown = std::min(done_, total_);
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = total_ == 0 ? kWidth : static_cast<int>(shown * kWidth / total_);
      std::string bar = "\r[" + std::string(static_cast<size_t>(filled), '#') +
                        std::string(static_cast<size_t>(kWidth - filled), '.') + "] " +
                        std::to_string(done_) + "/" + std::to_string(total_) + " rows";
      std::fputs(bar.c_str(), stderr);
      std::fflush(stderr);
      drawn_ = true;
      return;
    }
    const long long tenth = total_ == 0 ? 10 : shown * 10 / total_;
    if (force || tenth > last_tenth_) {
      last_tenth_ = tenth;
      std::fprintf(stderr, "reencrypt: %lld/%lld rows\n", done_, total_);
    }
  }

  long long total_;
  long long done_ = 0;
  long long last_tenth_ = 0;
  bool tty_;
  bool drawn_ = false;
};

struct Tally {
  long long moved = 0;
  long long failed = 0;
  long long changed = 0;  // rewritten by someone else between our read and write
};

// Rows of one column and tenant that are not under the primary key.
long long count_pending(soci::session& sql,
                        const EncryptedColumn& c,
                        const std::string& tenant,
                        const std::string& prefix) {
  const std::string col = c.column;
  const int n = static_cast<int>(prefix.size());
  long long count = 0;
  // substr(…) <> :p rather than NOT LIKE: SQLite's LIKE ignores case and
  // '_' (valid in key ids) is a LIKE wildcard; substr compares exactly.
  sql << "SELECT COUNT(*) FROM " + std::string(c.table) + " WHERE tenant_id = :t AND " + col +
             " IS NOT NULL AND substr(" + col + ", 1, :n) <> :p",
      soci::use(tenant), soci::use(n), soci::use(prefix), soci::into(count);
  return count;
}

long long count_all_pending(Db& db,
                            const std::vector<std::string>& tenants,
                            const std::string& prefix) {
  long long total = 0;
  for (const std::string& tenant : tenants) {
    TenantTx tx(db, tenant, TxKind::kRead);
    for (const EncryptedColumn& c : kEncryptedColumns) {
      total += count_pending(tx.sql(), c, tenant, prefix);
    }
    tx.commit();
  }
  return total;
}

// Moves one column of one tenant to the primary key, `batch` rows per
// transaction, in id order (keyset: a row that cannot be decrypted is passed
// over, not fetched again).
void reencrypt_column(Db& db,
                      const FieldCipher& cipher,
                      const EncryptedColumn& c,
                      const std::string& tenant,
                      int batch,
                      Progress& progress,
                      Tally& tally) {
  const std::string table = c.table;
  const std::string col = c.column;
  const std::string prefix = std::string(kFieldBlobVersion) + "." + cipher.primary_id() + ".";
  const int prefix_chars = static_cast<int>(prefix.size());
  std::string after = kNilUuid;
  for (;;) {
    TenantTx tx(db, tenant, TxKind::kWrite);
    soci::session& sql = tx.sql();
    // A rowset, not into(vector): SOCI treats a vector of size 1 (--batch 1)
    // as a single-row fetch and leaves it untouched when no row comes back.
    std::vector<std::pair<std::string, std::string>> rows;
    {  // the statement ends here, before the updates and the commit
      soci::rowset<soci::row> found =
          (sql.prepare << "SELECT id, " + col + " FROM " + table + " WHERE tenant_id = :t AND " +
                              col + " IS NOT NULL AND substr(" + col + ", 1, :n) <> :p AND " +
                              "id > :after ORDER BY id LIMIT :lim",
           soci::use(tenant), soci::use(prefix_chars), soci::use(prefix), soci::use(after),
           soci::use(batch));
      for (const soci::row& r : found) {
        rows.emplace_back(r.get<std::string>(0), r.get<std::string>(1));
      }
    }
    if (rows.empty()) {
      tx.commit();
      return;
    }
    std::string id;
    std::string old_blob;
    std::string new_blob;
    soci::statement update =
        (sql.prepare << "UPDATE " + table + " SET " + col + " = :new WHERE id = :id AND " +
                            "tenant_id = :t AND " + col + " = :old",
         soci::use(new_blob), soci::use(id), soci::use(tenant), soci::use(old_blob));
    for (const auto& [row_id, blob] : rows) {
      id = row_id;
      old_blob = blob;
      after = id;
      const std::string aad = field_aad(table, col, tenant, id);
      try {
        // Logs a crypto.decrypt_failed alert (id and key id, no content).
        const std::string plaintext =
            decrypt_or_throw(cipher, old_blob, aad, "keys reencrypt " + name_of(c) + " " + id);
        new_blob = cipher.encrypt(plaintext, aad);
      } catch (const DecryptionError&) {
        ++tally.failed;
        progress.note("portcullis: " + name_of(c) + " row " + id +
                      ": cannot be decrypted with this keyring; left as it is");
        continue;
      }
      update.execute(true);
      // 0 rows: the row changed (or went away) since we read it; the writer
      // used its own key and we must not overwrite its value with ours.
      if (update.get_affected_rows() == 1) {
        ++tally.moved;
      } else {
        ++tally.changed;
      }
    }
    tx.commit();
    progress.advance(static_cast<long long>(rows.size()));
  }
}

void audit_reencrypt(Env& env, const std::string& primary, const Tally& t, long long remaining) {
  AuditEvent ev;
  ev.event = "keys.reencrypted";
  ev.outcome = t.failed == 0 ? "success" : "failure";
  ev.target_type = "system";
  ev.details = {{"actor", "system"},
                {"primary_key_id", primary},
                {"rows_moved", std::to_string(t.moved)},
                {"failures", std::to_string(t.failed)},
                {"changed_concurrently", std::to_string(t.changed)},
                {"remaining", std::to_string(remaining)}};
  Tx tx(*env.db);
  Audit audit(*env.db);
  store::audit::record(audit, tx.db(), ev);
  tx.commit();
}

// ---------------------------------------------------------------- reindex

// The blind index (memory_terms) hashes words under a key derived from
// PORTCULLIS_SECRET_KEY per tenant (app/crypto/blind_index.h), so it must be
// rebuilt when that secret changes; the folded tag rows (memory_tags) are
// rewritten on the way. Each batch of `batch` memories is one transaction,
// newest first; a memory whose content cannot be decrypted keeps its old
// rows and is reported by id.
struct ReindexTally {
  long long memories = 0;
  long long failed = 0;
};

std::vector<std::string> tags_of(const std::string& tags_json) {
  std::vector<std::string> tags;
  rapidjson::Document d;
  d.Parse(tags_json.c_str());
  if (d.IsArray()) {
    for (const auto& t : d.GetArray()) {
      if (t.IsString()) {
        tags.emplace_back(t.GetString(), t.GetStringLength());
      }
    }
  }
  return tags;
}

void reindex_tenant(
    Db& db, const WorkerKeys& keys, const std::string& tenant, int batch, ReindexTally& tally) {
  const std::string key = keys.search_key(tenant);
  std::string before = "ffffffff-ffff-ffff-ffff-ffffffffffff";
  for (;;) {
    TenantTx tx(db, tenant, TxKind::kWrite);
    // Locked until the batch commits (PostgreSQL), so a memory changed
    // meanwhile ends up with the index its own write made.
    std::vector<store::memories::Memory> rows =
        store::memories::page_for_reindex(tx, before, batch);
    for (const store::memories::Memory& m : rows) {
      before = m.id;
      std::string content;
      try {
        content = decrypt_or_throw(keys.field_cipher(), m.content_enc,
                                   field_aad("memories", "content_enc", tenant, m.id),
                                   "keys reindex memories.content_enc " + m.id);
      } catch (const DecryptionError&) {
        ++tally.failed;
        std::fprintf(stderr, "portcullis: memory %s: cannot be decrypted; index left as it is\n",
                     m.id.c_str());
        continue;
      }
      store::memories::replace_terms(tx, m.id, memory_term_hashes(key, m.title, content));
      store::memories::replace_tags(tx, m.id, tags_of(m.tags_json));
      ++tally.memories;
    }
    tx.commit();
    if (rows.size() < static_cast<size_t>(batch)) {
      return;
    }
  }
}

// Rebuilds every tenant's index; returns the exit code: 1 on a database
// error, and on memories that cannot be decrypted when `undecryptable_fails`
// (keys reindex; reencrypt reports them but keeps its own exit code, since
// rows already under the primary key were never its to check).
int run_reindex(Env& env, int batch, bool undecryptable_fails) {
  ReindexTally tally;
  try {
    const WorkerKeys keys(env.config.secret_key, env.config.data_keys, env.config.data_key_primary);
    for (const std::string& tenant : tenant_ids(env.db->session())) {
      reindex_tenant(*env.db, keys, tenant, batch, tally);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "portcullis: keys reindex stopped: %s\n"
                 "(%lld memories indexed so far; run it again to finish)\n",
                 loggable_what(e).c_str(), tally.memories);
    return kExitFailure;
  }
  std::printf("reindex: %lld memories indexed, %lld could not be decrypted\n", tally.memories,
              tally.failed);
  return tally.failed > 0 && undecryptable_fails ? kExitFailure : 0;
}

std::optional<int> parse_batch(const std::map<std::string, std::string>& o, int* batch) {
  if (!get(o, "batch").empty()) {
    const std::string& text = get(o, "batch");
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > kMaxBatch) {
      std::fprintf(stderr, "portcullis: --batch must be an integer between 1 and %d\n", kMaxBatch);
      return kExitUsage;
    }
    *batch = static_cast<int>(v);
  }
  return std::nullopt;
}

int keys_reindex(const std::map<std::string, std::string>& o) {
  int batch = kDefaultBatch;
  if (std::optional<int> rc = parse_batch(o, &batch)) {
    return *rc;
  }
  Env env;
  if (std::optional<int> rc = open_env(o, &env)) {
    return *rc;
  }
  return run_reindex(env, batch, true);
}

int keys_reencrypt(const std::map<std::string, std::string>& o) {
  int batch = kDefaultBatch;
  if (!get(o, "batch").empty()) {
    const std::string& text = get(o, "batch");
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > kMaxBatch) {
      std::fprintf(stderr, "portcullis: --batch must be an integer between 1 and %d\n", kMaxBatch);
      return kExitUsage;
    }
    batch = static_cast<int>(v);
  }
  Env env;
  if (std::optional<int> rc = open_env(o, &env)) {
    return *rc;
  }
  const FieldCipher cipher(env.config.data_keys, env.config.data_key_primary);
  const std::string prefix = std::string(kFieldBlobVersion) + "." + cipher.primary_id() + ".";
  soci::session& sql = env.db->session();
  Tally tally;
  long long remaining = 0;
  try {
    const std::vector<std::string> tenants = tenant_ids(sql);
    Progress progress(count_all_pending(*env.db, tenants, prefix));
    for (const std::string& tenant : tenants) {
      for (const EncryptedColumn& c : kEncryptedColumns) {
        reencrypt_column(*env.db, cipher, c, tenant, batch, progress, tally);
      }
    }
    progress.finish();
    remaining = count_all_pending(*env.db, tenants, prefix);
  } catch (const std::exception& e) {
    // Every committed batch stands and every row is valid under some key:
    // running the command again carries on.
    std::fprintf(stderr,
                 "\nportcullis: keys reencrypt stopped: %s\n"
                 "(%lld rows moved so far; run it again to continue)\n",
                 loggable_what(e).c_str(), tally.moved);
    return kExitFailure;
  }
  try {
    audit_reencrypt(env, cipher.primary_id(), tally, remaining);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "portcullis: keys reencrypt: the audit row could not be written: %s\n",
                 loggable_what(e).c_str());
    return kExitFailure;
  }
  std::printf("reencrypt: %lld rows moved to %s, %lld failed, %lld changed concurrently\n",
              tally.moved, cipher.primary_id().c_str(), tally.failed, tally.changed);
  if (remaining > tally.failed) {
    std::printf("%lld rows are still under other keys (written while this ran?): run it again\n",
                remaining - tally.failed);
  }
  int rc = 0;
  if (tally.failed > 0) {
    std::fprintf(stderr,
                 "portcullis: %lld rows could not be decrypted with this keyring (ids above); "
                 "they were left as they are\n",
                 tally.failed);
    rc = kExitFailure;
  }
  // A key change is when the search index must follow (its hashes depend on
  // the secret, not on the data key, but this is when operators rotate).
  const int reindex_rc = run_reindex(env, batch, false);
  return rc != 0 ? rc : reindex_rc;
}

}  // namespace

int cmd_keys(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : 0;
  }
  const std::string& verb = args[0];
  std::vector<std::string> allowed;
  if (verb == "generate") {
    allowed = {"id"};
  } else if (verb == "status") {
    allowed = {"env-file"};
  } else if (verb == "reencrypt" || verb == "reindex") {
    allowed = {"env-file", "batch"};
  }
  if (allowed.empty()) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  if (args.size() == 2 && (args[1] == "--help" || args[1] == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::optional<std::map<std::string, std::string>> o = parse_options(args, allowed);
  if (!o) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  if (verb == "generate") {
    return keys_generate(*o);
  }
  if (verb == "status") {
    return keys_status(*o);
  }
  if (verb == "reindex") {
    return keys_reindex(*o);
  }
  return keys_reencrypt(*o);
}

}  // namespace portcullis
