// CRY-1, CRY-2, CRY-3: `portcullis keys status|reencrypt` against the test
// database (SQLite, or PostgreSQL as the schema owner), rows arranged and
// inspected directly with SOCI.
//
// Environment (tests/integration/run.sh): PORTCULLIS_TEST_BIN,
// PORTCULLIS_TEST_ENV_FILE, PORTCULLIS_TEST_DB_URL, PORTCULLIS_TEST_DIR.
//
// The running server shares the database and only knows its own keyring, so
// every test ends (TearDown) by moving all rows back to the server's primary
// key with the same command; the temporary keyrings include the server's
// keys, so rows written by other suites stay readable throughout. Rows other
// suites corrupted on purpose (CRY-2 tests) are recorded first: the job must
// report them by id, leave them as they are and exit 1.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "app/config/config.h"
#include "app/crypto/aead.h"
#include "app/crypto/random.h"
#include "app/db/connection.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

soci::session& keys_db() {
  static std::unique_ptr<soci::session> s;
  if (!s) {
    s = open_session(env_or_empty("PORTCULLIS_TEST_DB_URL"), DbOptions{});
  }
  return *s;
}

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout (the report, and JSON log lines)
  std::string err;  // stderr (progress, per-row problems)
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `prefix BIN keys ARGS --env-file ENV`; prefix is e.g. "timeout -s KILL 0.3".
CliRun run_keys(const std::string& args,
                const std::string& env_file,
                const std::string& prefix = "") {
  const std::string err_file =
      env_or_empty("PORTCULLIS_TEST_DIR") + "/keys-stderr-" + random_hex(4);
  const std::string cmd = prefix + (prefix.empty() ? "" : " ") +
                          env_or_empty("PORTCULLIS_TEST_BIN") + " keys " + args + " --env-file " +
                          env_file + " 2>" + err_file;
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    r.out.append(buf.data(), n);
  }
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_file(err_file);
  std::remove(err_file.c_str());
  return r;
}

// Starts `BIN keys ARGS --env-file ENV` as a child of this process (output
// to /dev/null) and returns its pid, for a test that kills it on purpose.
pid_t spawn_keys(const std::vector<std::string>& args, const std::string& env_file) {
  std::vector<std::string> argv_s = {env_or_empty("PORTCULLIS_TEST_BIN"), "keys"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  argv_s.emplace_back("--env-file");
  argv_s.push_back(env_file);
  std::vector<char*> argv;
  argv.reserve(argv_s.size() + 1);
  for (std::string& a : argv_s) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// The row count `keys status` prints for a column and key id; nullopt when
// there is no such line.
std::optional<long long> status_count(const std::string& report,
                                      const std::string& column,
                                      const std::string& key_id) {
  std::istringstream lines(report);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string col;
    std::string id;
    long long n = 0;
    if (fields >> col >> id >> n && col == column && id == key_id) {
      return n;
    }
  }
  return std::nullopt;
}

std::string now_text() { return "2026-11-24T10:00:00.000Z"; }

struct Memory {
  std::string id;
  std::string tenant_id;
  std::string text;
};

struct User {
  std::string id;
  std::string tenant_id;
  std::string totp_secret;  // empty: NULL in the table
};

class KeysCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env_or_empty("PORTCULLIS_TEST_BIN").empty() ||
        env_or_empty("PORTCULLIS_TEST_ENV_FILE").empty()) {
      GTEST_SKIP() << "run through tests/integration/run.sh";
    }
    // The server's own keyring, as it loaded it (its env file, or the
    // development keyring it generated under PORTCULLIS_VAR_DIR).
    const Config server =
        load_config(ConfigOptions{env_or_empty("PORTCULLIS_TEST_ENV_FILE"), false});
    server_keys_ = server.data_keys;
    server_primary_ = server.data_key_primary;
    std::vector<DataKey> ring = {{"knew", random_bytes(32)}, {"kold", random_bytes(32)}};
    ring.insert(ring.end(), server_keys_.begin(), server_keys_.end());
    ring_ = ring;
    old_cipher_ = std::make_unique<FieldCipher>(std::vector<DataKey>{ring[1]}, "kold");
    ring_cipher_ = std::make_unique<FieldCipher>(ring_, "knew");
    rotate_env_ = write_env("keys-rotate", "knew");
    restore_env_ = write_env("keys-restore", server_primary_);
    preexisting_bad_ = unreadable_rows();
    if (!preexisting_bad_.empty()) {
      std::printf("[keys] %zu rows were already unreadable (tampered by other suites)\n",
                  preexisting_bad_.size());
    }
  }

  void TearDown() override {
    if (restore_env_.empty()) {
      return;
    }
    // Give the running server its rows back under a key it has.
    CliRun r = run_keys("reencrypt --batch 500", restore_env_);
    EXPECT_EQ(r.exit_code, want_exit(server_primary_)) << r.out << r.err;
    std::remove(rotate_env_.c_str());
    std::remove(restore_env_.c_str());
  }

  // Rows anywhere in the shared database that the ring cannot open, as
  // "table id" -> the key id the blob names: other suites tamper with
  // ciphertexts on purpose (CRY-2), and the job must report and skip those,
  // not fail on them or "repair" them.
  std::map<std::string, std::string> unreadable_rows() {
    std::map<std::string, std::string> bad;
    for (const auto& [table, column] :
         {std::pair<std::string, std::string>{"memories", "content_enc"},
          {"users", "totp_secret_enc"}}) {
      soci::rowset<soci::row> rows =
          (keys_db().prepare << "SELECT id, tenant_id, " + column + " FROM " + table + " WHERE " +
                                    column + " IS NOT NULL");
      for (const soci::row& r : rows) {
        const std::string id = r.get<std::string>(0);
        const std::string aad = field_aad(table, column, r.get<std::string>(1), id);
        const std::string blob = r.get<std::string>(2);
        if (!ring_cipher_->decrypt(blob, aad)) {
          bad[table + " " + id] = FieldCipher::key_id_of(blob).value_or("");
        }
      }
    }
    return bad;
  }

  // Pre-existing unreadable rows a job moving to `primary` must try (those
  // already under `primary` it leaves alone without opening them).
  long long preexisting_bad(const std::string& primary, const std::string& table = "") const {
    long long n = 0;
    for (const auto& [row, key_id] : preexisting_bad_) {
      n += key_id != primary && row.rfind(table, 0) == 0 ? 1 : 0;
    }
    return n;
  }
  // reencrypt exits 1 when a row it tried could not be decrypted.
  int want_exit(const std::string& primary = "knew") const {
    return preexisting_bad(primary) == 0 ? 0 : 1;
  }

  // Every pre-existing unreadable row was reported by id and left alone.
  void expect_preexisting_bad_reported(const CliRun& run) {
    for (const auto& [row, key_id] : preexisting_bad_) {
      EXPECT_THAT(run.err, HasSubstr(row.substr(row.find(' ') + 1))) << row;
    }
    EXPECT_EQ(unreadable_rows(), preexisting_bad_);
  }

  // The test env file without its keyring lines, plus this test's keyring;
  // `as_app_role` also drops the owner URL, so the command connects with
  // PORTCULLIS_DATABASE_URL (on PostgreSQL the app role, subject to RLS).
  std::string write_env(const std::string& name,
                        const std::string& primary,
                        bool as_app_role = false) {
    std::istringstream base(read_file(env_or_empty("PORTCULLIS_TEST_ENV_FILE")));
    const std::string path =
        env_or_empty("PORTCULLIS_TEST_DIR") + "/" + name + "-" + random_hex(4) + ".env";
    std::ofstream out(path);
    std::string line;
    while (std::getline(base, line)) {
      if (line.rfind("PORTCULLIS_DATA_KEYS=", 0) != 0 &&
          line.rfind("PORTCULLIS_DATA_KEY_PRIMARY=", 0) != 0 &&
          (!as_app_role || line.rfind("PORTCULLIS_DATABASE_OWNER_URL=", 0) != 0)) {
        out << line << "\n";
      }
    }
    std::string keys;
    for (const DataKey& k : ring_) {
      keys += (keys.empty() ? "" : ",") + k.id + ":" + base64_encode(k.key);
    }
    out << "PORTCULLIS_DATA_KEYS=" << keys << "\n";
    out << "PORTCULLIS_DATA_KEY_PRIMARY=" << primary << "\n";
    return path;
  }

  std::string make_tenant() {
    std::string id = uuid_v7();
    const std::string name = "keys-" + random_hex(4);
    const std::string now = now_text();
    keys_db() << "INSERT INTO tenants (id, name, created_at, updated_at) VALUES (:i, :n, :c, :u)",
        soci::use(id), soci::use(name), soci::use(now), soci::use(now);
    return id;
  }

  // A user whose TOTP secret (if any) is sealed under kold.
  User make_user(const std::string& tenant_id, const std::string& totp_secret) {
    User u{uuid_v7(), tenant_id, totp_secret};
    const std::string email = "keys-" + random_hex(6) + "@example.test";
    const std::string now = now_text();
    std::string enc;
    soci::indicator ind = soci::i_null;
    if (!totp_secret.empty()) {
      enc =
          old_cipher_->encrypt(totp_secret, field_aad("users", "totp_secret_enc", tenant_id, u.id));
      ind = soci::i_ok;
    }
    keys_db() << "INSERT INTO users (id, tenant_id, email, display_name, password_hash, role, "
                 "totp_secret_enc, created_at, updated_at) VALUES (:i, :t, :e, 'Keys', "
                 "'$argon2id$v=19$m=19456,t=2,p=1$x$y', 'owner', :s, :c, :u)",
        soci::use(u.id), soci::use(tenant_id), soci::use(email), soci::use(enc, ind),
        soci::use(now), soci::use(now);
    users_.push_back(u);
    return u;
  }

  // A memory whose content is sealed under kold.
  Memory make_memory(const std::string& tenant_id, const std::string& created_by) {
    Memory m{uuid_v7(), tenant_id, "memory text " + random_hex(8)};
    const std::string enc =
        old_cipher_->encrypt(m.text, field_aad("memories", "content_enc", tenant_id, m.id));
    const std::string title = "title " + random_hex(2);
    const std::string now = now_text();
    keys_db() << "INSERT INTO memories (id, tenant_id, title, content_enc, created_by, created_at, "
                 "updated_at) VALUES (:i, :t, :ti, :c, :b, :ca, :ua)",
        soci::use(m.id), soci::use(tenant_id), soci::use(title), soci::use(enc),
        soci::use(created_by), soci::use(now), soci::use(now);
    memories_.push_back(m);
    return m;
  }

  std::string content_of(const std::string& memory_id) {
    std::string enc;
    keys_db() << "SELECT content_enc FROM memories WHERE id = :i", soci::use(memory_id),
        soci::into(enc);
    return enc;
  }

  std::string totp_of(const std::string& user_id) {
    std::string enc;
    soci::indicator ind = soci::i_null;
    keys_db() << "SELECT totp_secret_enc FROM users WHERE id = :i", soci::use(user_id),
        soci::into(enc, ind);
    return ind == soci::i_ok ? enc : "";
  }

  // Rows of a column, all tenants, not under `key_id`.
  long long rows_not_under(const std::string& table,
                           const std::string& column,
                           const std::string& key_id) {
    const std::string prefix = "v1." + key_id + ".";
    const int n = static_cast<int>(prefix.size());
    long long count = 0;
    keys_db() << "SELECT COUNT(*) FROM " + table + " WHERE " + column + " IS NOT NULL AND substr(" +
                     column + ", 1, :n) <> :p",
        soci::use(n), soci::use(prefix), soci::into(count);
    return count;
  }

  // Every row this test made still opens with the ring, under its own AAD,
  // to what was written; `under` (if set) is the key id it must carry.
  void expect_all_rows_intact(const std::string& under) {
    for (const Memory& m : memories_) {
      const std::string enc = content_of(m.id);
      if (!under.empty()) {
        EXPECT_THAT(enc, StartsWith("v1." + under + ".")) << m.id;
      }
      EXPECT_EQ(ring_cipher_->decrypt(enc, field_aad("memories", "content_enc", m.tenant_id, m.id)),
                m.text)
          << m.id;
      EXPECT_THAT(enc, Not(HasSubstr(m.text)));
    }
    for (const User& u : users_) {
      const std::string enc = totp_of(u.id);
      if (u.totp_secret.empty()) {
        EXPECT_EQ(enc, "") << "a NULL secret stays NULL";
        continue;
      }
      if (!under.empty()) {
        EXPECT_THAT(enc, StartsWith("v1." + under + ".")) << u.id;
      }
      EXPECT_EQ(
          ring_cipher_->decrypt(enc, field_aad("users", "totp_secret_enc", u.tenant_id, u.id)),
          u.totp_secret)
          << u.id;
    }
  }

  std::vector<DataKey> server_keys_;
  std::string server_primary_;
  std::vector<DataKey> ring_;
  std::unique_ptr<FieldCipher> old_cipher_;
  std::unique_ptr<FieldCipher> ring_cipher_;
  std::string rotate_env_;
  std::string restore_env_;
  std::vector<Memory> memories_;
  std::vector<User> users_;
  std::map<std::string, std::string> preexisting_bad_;
};

TEST_F(KeysCliTest, CRY2_CiphertextCopiedToAnotherRowFailsAndIsReportedNotMoved) {
  const std::string tenant_a = make_tenant();
  const std::string tenant_b = make_tenant();
  const User owner_a = make_user(tenant_a, "");
  const User owner_b = make_user(tenant_b, "");
  const Memory m1 = make_memory(tenant_a, owner_a.id);
  const Memory m2 = make_memory(tenant_a, owner_a.id);
  const Memory m3 = make_memory(tenant_b, owner_b.id);
  // Copy m1's ciphertext over m2 (same tenant) and over m3 (other tenant).
  const std::string stolen = content_of(m1.id);
  keys_db() << "UPDATE memories SET content_enc = :c WHERE id = :i", soci::use(stolen),
      soci::use(m2.id);
  keys_db() << "UPDATE memories SET content_enc = :c WHERE id = :i", soci::use(stolen),
      soci::use(m3.id);
  EXPECT_EQ(ring_cipher_->decrypt(stolen, field_aad("memories", "content_enc", tenant_a, m2.id)),
            std::nullopt);
  EXPECT_EQ(ring_cipher_->decrypt(stolen, field_aad("memories", "content_enc", tenant_b, m3.id)),
            std::nullopt);

  CliRun r = run_keys("reencrypt --batch 2", rotate_env_);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr(m2.id));
  EXPECT_THAT(r.err, HasSubstr(m3.id));
  EXPECT_THAT(r.err, Not(HasSubstr(m1.id)));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(m1.text)));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(stolen.substr(10))));
  EXPECT_THAT(r.out, HasSubstr("crypto.decrypt_failed"));
  // The good row moved; the copies were left exactly as they were.
  EXPECT_THAT(content_of(m1.id), StartsWith("v1.knew."));
  EXPECT_EQ(content_of(m2.id), stolen);
  EXPECT_EQ(content_of(m3.id), stolen);

  // Out of the way, so the restore in TearDown has nothing it cannot read.
  keys_db() << "DELETE FROM memories WHERE id = :a OR id = :b", soci::use(m2.id), soci::use(m3.id);
  memories_ = {m1};
}

TEST_F(KeysCliTest, CRY3_StatusThenReencryptMovesEveryRowToThePrimary) {
  const std::string tenant_a = make_tenant();
  const std::string tenant_b = make_tenant();
  const User owner_a = make_user(tenant_a, "JBSWY3DPEHPK3PXPAAAAAAAAAAAAAAAA");
  const User owner_b = make_user(tenant_b, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  make_user(tenant_b, "");  // no MFA: NULL secret, skipped
  for (int i = 0; i < 4; ++i) {
    make_memory(tenant_a, owner_a.id);
    make_memory(tenant_b, owner_b.id);
  }

  CliRun before = run_keys("status", rotate_env_);
  ASSERT_EQ(before.exit_code, 0) << before.out << before.err;
  EXPECT_THAT(before.out, HasSubstr("knew (primary)"));
  EXPECT_EQ(status_count(before.out, "memories.content_enc", "kold"), 8);
  EXPECT_EQ(status_count(before.out, "users.totp_secret_enc", "kold"), 2);
  EXPECT_EQ(status_count(before.out, "memories.content_enc", "knew"), 0);

  CliRun job = run_keys("reencrypt --batch 3", rotate_env_);
  ASSERT_EQ(job.exit_code, want_exit()) << job.out << job.err;
  EXPECT_THAT(job.out, HasSubstr("rows moved to knew, " + std::to_string(preexisting_bad("knew")) +
                                 " failed"));
  expect_preexisting_bad_reported(job);
  EXPECT_THAT(job.err, HasSubstr("rows"));  // progress (plain lines: stderr is a file)
  EXPECT_THAT(job.out + job.err, Not(HasSubstr("memory text")));

  CliRun after = run_keys("status", rotate_env_);
  ASSERT_EQ(after.exit_code, 0) << after.out << after.err;
  EXPECT_EQ(status_count(after.out, "memories.content_enc", "kold"), 0);
  EXPECT_EQ(status_count(after.out, "users.totp_secret_enc", "kold"), 0);
  EXPECT_GE(status_count(after.out, "memories.content_enc", "knew").value_or(0), 8);

  // In the database: every readable row (this test's and everyone else's) is
  // under knew, and each of ours opens with its own row's AAD to the original.
  EXPECT_EQ(rows_not_under("memories", "content_enc", "knew"),
            preexisting_bad("knew", "memories "));
  EXPECT_EQ(rows_not_under("users", "totp_secret_enc", "knew"), preexisting_bad("knew", "users "));
  expect_all_rows_intact("knew");

  std::string details;
  keys_db()
      << "SELECT details FROM audit_events WHERE event = 'keys.reencrypted' ORDER BY ts DESC, "
         "id DESC LIMIT 1",
      soci::into(details);
  EXPECT_THAT(details, HasSubstr("rows_moved"));
  EXPECT_THAT(details, HasSubstr("\"failures\""));

  // Idempotent: a second run has nothing to do.
  CliRun again = run_keys("reencrypt", rotate_env_);
  EXPECT_EQ(again.exit_code, want_exit()) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("0 rows moved"));
}

TEST_F(KeysCliTest, CRY3_KilledReencryptLosesNothingAndARerunFinishes) {
  const std::string tenant_a = make_tenant();
  const std::string tenant_b = make_tenant();
  const User owner_a = make_user(tenant_a, "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U");
  const User owner_b = make_user(tenant_b, "");
  constexpr int kRows = 300;
  for (int i = 0; i < kRows; ++i) {
    make_memory(i % 2 == 0 ? tenant_a : tenant_b, i % 2 == 0 ? owner_a.id : owner_b.id);
  }
  auto moved = [&] {
    long long n = 0;
    const std::string prefix = "v1.knew.";
    keys_db() << "SELECT COUNT(*) FROM memories WHERE (tenant_id = :a OR tenant_id = :b) AND "
                 "substr(content_enc, 1, 8) = :p",
        soci::use(tenant_a), soci::use(tenant_b), soci::use(prefix), soci::into(n);
    return n;
  };
  // One row per transaction; SIGKILL (no chance to clean up) once some rows
  // have moved and before all have.
  const pid_t pid = spawn_keys({"reencrypt", "--batch", "1"}, rotate_env_);
  ASSERT_GT(pid, 0);
  long long at_kill = 0;
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 6000 && at_kill < 10; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    at_kill = moved();
    ::usleep(2000);
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  const long long after_kill = moved();
  std::printf("[keys] killed the job with %lld of %d rows moved\n", after_kill, kRows);
  EXPECT_FALSE(exited) << "the job finished before it could be killed";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_GT(after_kill, 0);
  EXPECT_LT(after_kill, kRows);
  // Whatever was committed or not, every row is valid under some key.
  expect_all_rows_intact("");

  CliRun rerun = run_keys("reencrypt --batch 7", rotate_env_);
  ASSERT_EQ(rerun.exit_code, want_exit()) << rerun.out << rerun.err;
  EXPECT_EQ(rows_not_under("memories", "content_enc", "knew"),
            preexisting_bad("knew", "memories "));
  EXPECT_EQ(rows_not_under("users", "totp_secret_enc", "knew"), preexisting_bad("knew", "users "));
  expect_all_rows_intact("knew");
  long long mine = 0;
  keys_db() << "SELECT COUNT(*) FROM memories WHERE tenant_id = :a OR tenant_id = :b",
      soci::use(tenant_a), soci::use(tenant_b), soci::into(mine);
  EXPECT_EQ(mine, kRows) << "no row lost";
}

// On PostgreSQL the app role sees a tenant's rows only inside a transaction
// that set portcullis.tenant_id (FORCE row-level security): the job sets it
// per tenant, so it also works without the owner URL.
TEST_F(KeysCliTest, CRY3_ReencryptWithoutTheOwnerUrlStillReachesEveryTenant) {
  const std::string app_env = write_env("keys-app-role", "knew", true);
  const std::string tenant_a = make_tenant();
  const std::string tenant_b = make_tenant();
  const User owner_a = make_user(tenant_a, "ORSXG5BAON2WE2TFMN2CA43FMNZGK5BA");
  const User owner_b = make_user(tenant_b, "");
  for (int i = 0; i < 3; ++i) {
    make_memory(tenant_a, owner_a.id);
    make_memory(tenant_b, owner_b.id);
  }
  CliRun status = run_keys("status", app_env);
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_GE(status_count(status.out, "memories.content_enc", "kold").value_or(0), 6);
  CliRun job = run_keys("reencrypt --batch 2", app_env);
  ASSERT_EQ(job.exit_code, want_exit()) << job.out << job.err;
  EXPECT_EQ(rows_not_under("memories", "content_enc", "knew"),
            preexisting_bad("knew", "memories "));
  EXPECT_EQ(rows_not_under("users", "totp_secret_enc", "knew"), preexisting_bad("knew", "users "));
  expect_all_rows_intact("knew");
  std::remove(app_env.c_str());
}

TEST_F(KeysCliTest, GenerateAndUsageErrors) {
  CliRun gen = run_keys("generate --id k2026test", rotate_env_.empty() ? "/dev/null" : rotate_env_);
  // generate takes no --env-file: usage error, and no key printed.
  EXPECT_EQ(gen.exit_code, 64);
  const std::string bin = env_or_empty("PORTCULLIS_TEST_BIN");
  FILE* p = ::popen((bin + " keys generate 2>/dev/null").c_str(), "r");
  std::array<char, 256> buf{};
  std::string line = std::fgets(buf.data(), buf.size(), p) != nullptr ? buf.data() : "";
  ::pclose(p);
  const size_t colon = line.find(':');
  ASSERT_NE(colon, std::string::npos) << line;
  EXPECT_THAT(line.substr(0, colon), ::testing::MatchesRegex("k[0-9]{8}[0-9a-f]{4}"));
  std::string raw;
  ASSERT_TRUE(base64_decode(line.substr(colon + 1, line.find('\n') - colon - 1), &raw));
  EXPECT_EQ(raw.size(), 32u);
  EXPECT_EQ(run_keys("reencrypt --batch 0", rotate_env_).exit_code, 64);
  EXPECT_EQ(run_keys("rotate", rotate_env_).exit_code, 64);
}

}  // namespace
}  // namespace portcullis::testing
