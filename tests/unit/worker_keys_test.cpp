// WorkerKeys (app/crypto/worker_keys.h): built once per worker, it must give
// exactly what the per-request code derived before, so cursors already handed
// out, backup codes already stored and login subjects already counted stay
// valid, and field ciphertexts open both ways.
#include "app/crypto/worker_keys.h"

#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/soci.h>

#include "app/auth/account.h"
#include "app/auth/mfa.h"
#include "app/auth/throttle.h"
#include "app/auth/totp.h"
#include "app/crypto/aead.h"
#include "app/crypto/keys.h"
#include "app/crypto/random.h"
#include "app/db/connection.h"
#include "app/db/tenant_tx.h"
#include "app/http/api_error.h"
#include "app/http/pagination.h"
#include "app/http/request.h"

namespace portcullis {
namespace {

using ::testing::StartsWith;

class WorkerKeysTest : public ::testing::Test {
 protected:
  WorkerKeysTest()
      : root_(random_bytes(32)),
        ring_{{"k1", random_bytes(32)}, {"k2", random_bytes(32)}},
        keys_(root_, ring_, "k2") {}

  const std::string root_;
  const std::vector<DataKey> ring_;
  const WorkerKeys keys_;
};

TEST(WorkerKeysRequires, RefusesAShortSecretOrABadKeyring) {
  const std::string key = random_bytes(32);
  EXPECT_THROW(WorkerKeys(random_bytes(31), {{"k1", key}}, "k1"), std::invalid_argument);
  EXPECT_THROW(WorkerKeys("", {{"k1", key}}, "k1"), std::invalid_argument);
  EXPECT_THROW(WorkerKeys(random_bytes(32), {}, "k1"), std::invalid_argument);
  EXPECT_THROW(WorkerKeys(random_bytes(32), {{"k1", key}}, "k2"), std::invalid_argument);
  EXPECT_THROW(WorkerKeys(random_bytes(32), {{"k1", key.substr(0, 16)}}, "k1"),
               std::invalid_argument);
  EXPECT_NO_THROW(WorkerKeys(random_bytes(32), {{"k1", key}}, "k1"));
  EXPECT_NO_THROW(WorkerKeys(random_bytes(64), {{"k1", key}}, "k1"));
}

// The labels are pinned here as literals: changing one in the product would
// invalidate every stored backup code and every cursor in a client's hands.
TEST_F(WorkerKeysTest, PurposeKeysAreThoseDeriveKeyGivesForTheSameLabels) {
  EXPECT_EQ(keys_.cursor_key(), derive_key(root_, "cursor"));
  EXPECT_EQ(keys_.backup_code_key(), derive_key(root_, "backup-code"));
  EXPECT_EQ(keys_.login_subject_key(), derive_key(root_, "login-subject"));
  EXPECT_EQ(keys_.cursor_key().size(), 32u);
  // One key per purpose, and none of them is the root itself.
  EXPECT_NE(keys_.cursor_key(), keys_.backup_code_key());
  EXPECT_NE(keys_.cursor_key(), keys_.login_subject_key());
  EXPECT_NE(keys_.backup_code_key(), keys_.login_subject_key());
  EXPECT_NE(keys_.cursor_key(), root_.substr(0, 32));
  // Another root, other keys.
  const WorkerKeys other(random_bytes(32), ring_, "k2");
  EXPECT_NE(other.cursor_key(), keys_.cursor_key());
}

// Known devices are stored under this key: a changed label would make every
// remembered device unknown at once (every next login "from a new device").
TEST_F(WorkerKeysTest, DeviceKeyIsDeriveKeyOfTheDeviceLabel) {
  EXPECT_EQ(keys_.device_key(), derive_key(root_, "device"));
  EXPECT_EQ(keys_.device_key().size(), 32u);
  for (const std::string* k :
       {&keys_.cursor_key(), &keys_.backup_code_key(), &keys_.login_subject_key()}) {
    EXPECT_NE(keys_.device_key(), *k);
  }
  EXPECT_NE(keys_.device_key(), root_.substr(0, 32));
}

// Stored reset tokens are keyed hashes under this key: a changed label would
// void every token in flight.
TEST_F(WorkerKeysTest, RecoveryTokenKeyIsDeriveKeyOfTheRecoveryTokenLabel) {
  EXPECT_EQ(keys_.recovery_token_key(), derive_key(root_, "recovery-token"));
  EXPECT_EQ(keys_.recovery_token_key().size(), 32u);
  for (const std::string* k : {&keys_.cursor_key(), &keys_.backup_code_key(),
                               &keys_.login_subject_key(), &keys_.device_key()}) {
    EXPECT_NE(keys_.recovery_token_key(), *k);
  }
}

TEST_F(WorkerKeysTest, FieldCiphertextsOpenBothWaysWithAFreshlyBuiltCipher) {
  const FieldCipher fresh(ring_, "k2");
  const std::string aad = field_aad("memories", "content_enc", "tenant-a", "row-1");

  const std::string by_worker = keys_.field_cipher().encrypt("worker secret", aad);
  EXPECT_THAT(by_worker, StartsWith("v1.k2."));  // sealed under the primary
  EXPECT_EQ(fresh.decrypt(by_worker, aad), "worker secret");

  const std::string by_fresh = fresh.encrypt("fresh secret", aad);
  EXPECT_EQ(keys_.field_cipher().decrypt(by_fresh, aad), "fresh secret");

  // A row still under the older key of the ring opens too.
  const FieldCipher old_primary(ring_, "k1");
  const std::string by_old = old_primary.encrypt("older secret", aad);
  EXPECT_EQ(keys_.field_cipher().decrypt(by_old, aad), "older secret");

  // And the AAD still binds: another row does not open.
  const std::string other_row = field_aad("memories", "content_enc", "tenant-a", "row-2");
  EXPECT_FALSE(fresh.decrypt(by_worker, other_row).has_value());
  EXPECT_FALSE(keys_.field_cipher().decrypt(by_fresh, other_row).has_value());
  EXPECT_EQ(keys_.field_cipher().primary_id(), "k2");
}

// A cursor made the way parse_page/make_cursor made it per request
// (HMAC under derive_key(secret, "cursor")) is still accepted, and a new one
// is byte for byte the same.
TEST_F(WorkerKeysTest, CursorsMadeBeforeStayValid) {
  const std::string scope = "tenant-a|memories||";
  const std::string last_id = uuid_v7();
  const std::string before = base64url_encode(
      last_id + "." +
      hmac_sha256(derive_key(root_, "cursor"), scope + "|" + last_id).substr(0, 16));
  EXPECT_EQ(make_cursor(last_id, keys_, scope), before);

  Request request;
  request.query = "cursor=" + before;
  EXPECT_EQ(parse_page(request, keys_, scope).after_id, last_id);

  // Bound to the scope and to the secret, as before.
  EXPECT_THROW(parse_page(request, keys_, "tenant-b|memories||"), ApiError);
  const WorkerKeys other(random_bytes(32), ring_, "k2");
  EXPECT_THROW(parse_page(request, other, scope), ApiError);
}

TEST_F(WorkerKeysTest, LoginSubjectsCountedBeforeAreTheSame) {
  // Not an address: counted under the HMAC, as before.
  const std::string typed = "correct horse battery staple";
  EXPECT_EQ(throttle_subject(keys_, typed),
            "h:" + to_hex(hmac_sha256(derive_key(root_, "login-subject"), normalize_email(typed))));
  // An address is its own subject; no key involved.
  EXPECT_EQ(throttle_subject(keys_, " Jane@Example.TEST "), "jane@example.test");
}

// Backup codes stored before (HMAC under derive_key(secret, "backup-code"))
// are still spent by consume_backup_code, and new ones are stored the same way.
TEST_F(WorkerKeysTest, BackupCodesStoredBeforeAreStillAccepted) {
  Db db("sqlite://:memory:", DbOptions{});
  db.session() << "CREATE TABLE backup_codes (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, "
                  "tenant_id TEXT NOT NULL, code_hash TEXT NOT NULL, created_at TEXT NOT NULL, "
                  "used_at TEXT, UNIQUE (user_id, code_hash))";
  std::string id = uuid_v7();
  std::string tenant = uuid_v7();
  std::string user = uuid_v7();
  const std::string code = new_backup_codes(1).front();
  std::string old_hash =
      to_hex(hmac_sha256(derive_key(root_, "backup-code"), normalize_backup_code(code)));
  db.session() << "INSERT INTO backup_codes (id, user_id, tenant_id, code_hash, created_at) "
                  "VALUES (:i, :u, :t, :h, '2024-01-01T00:00:00.000Z')",
      soci::use(id), soci::use(user), soci::use(tenant), soci::use(old_hash);
  {
    TenantTx tx(db, tenant);
    EXPECT_FALSE(consume_backup_code(tx, keys_, user, "AAAAA-BBBBB"));
    EXPECT_TRUE(consume_backup_code(tx, keys_, user, code));
    EXPECT_FALSE(consume_backup_code(tx, keys_, user, code));  // spent
    tx.commit();
  }
  {
    TenantTx tx(db, tenant);
    const std::vector<std::string> fresh = replace_backup_codes(tx, keys_, user);
    ASSERT_FALSE(fresh.empty());
    std::string expected =
        to_hex(hmac_sha256(derive_key(root_, "backup-code"), normalize_backup_code(fresh[0])));
    int n = 0;
    tx.sql() << "SELECT COUNT(*) FROM backup_codes WHERE user_id = :u AND code_hash = :h",
        soci::use(user), soci::use(expected), soci::into(n);
    EXPECT_EQ(n, 1);
    tx.commit();
  }
}

}  // namespace
}  // namespace portcullis
