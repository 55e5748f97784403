// PostgreSQL only: the second wall of tenant isolation (DESIGN §6). Row-level
// security seen from the app role, the app role's privileges, and EXPLAIN
// plans of the app's list and lookup queries on a seeded database (each must
// use its index, as the owner and under RLS). Test names cite SECURITY-BAR
// rows. Every test skips on SQLite.
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <soci/soci.h>

#include "app/crypto/random.h"
#include "app/db/connection.h"

#include "tests/integration/auth_client.h"

namespace portcullis::testing {
namespace {

using ::testing::HasSubstr;

constexpr const char* kPostgresOnly = "PostgreSQL only (row-level security, roles, EXPLAIN)";

// The tables under row-level security (migrations 0003, 0008 and 0012).
const std::vector<std::string> kRlsTables = {"users",         "contexts",    "memories",
                                             "memory_tags",   "invitations", "audit_events",
                                             "known_devices", "memory_terms"};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// A fresh connection as the app role (PORTCULLIS_DATABASE_URL of the server).
std::unique_ptr<soci::session> app_session() {
  return open_session(env("PORTCULLIS_TEST_APP_DB_URL"), DbOptions{});
}

// A fresh connection as the schema owner, with room for bulk seeding.
std::unique_ptr<soci::session> owner_session() {
  DbOptions options;
  options.statement_timeout_ms = 120000;
  return open_session(env("PORTCULLIS_TEST_DB_URL"), options);
}

// Runs sql (a single-value query) with positional string binds.
long long count_of(soci::session& s, const std::string& sql, std::vector<std::string> params = {}) {
  long long n = -1;
  soci::statement st(s);
  st.exchange(soci::into(n));
  for (std::string& p : params) {
    st.exchange(soci::use(p));
  }
  st.alloc();
  st.prepare(sql);
  st.define_and_bind();
  st.execute(true);
  return n;
}

std::string text_of(soci::session& s,
                    const std::string& sql,
                    std::vector<std::string> params = {}) {
  std::string out;
  soci::indicator ind = soci::i_null;
  soci::statement st(s);
  st.exchange(soci::into(out, ind));
  for (std::string& p : params) {
    st.exchange(soci::use(p));
  }
  st.alloc();
  st.prepare(sql);
  st.define_and_bind();
  st.execute(true);
  return ind == soci::i_ok ? out : "";
}

// Rows touched by a write, with positional string binds.
long long affected_by(soci::session& s, const std::string& sql, std::vector<std::string> params) {
  soci::statement st(s);
  for (std::string& p : params) {
    st.exchange(soci::use(p));
  }
  st.alloc();
  st.prepare(sql);
  st.define_and_bind();
  st.execute(true);
  return st.get_affected_rows();
}

// As TenantTx does: the tenant for the current transaction only.
void set_tenant(soci::session& s, const std::string& tenant_id) {
  std::string ignored;
  s << "SELECT set_config('portcullis.tenant_id', :t, true)", soci::use(tenant_id),
      soci::into(ignored);
}

// The database error fn raised ("" if none).
std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const soci::soci_error& e) {
    return e.what();
  }
  return "";
}

// Runs sql as the app role in a transaction with the tenant set; the error
// it raised ("" if none). The transaction is rolled back either way.
std::string error_in_tenant_tx(soci::session& s,
                               const std::string& tenant_id,
                               const std::string& sql) {
  soci::transaction tx(s);
  set_tenant(s, tenant_id);
  std::string err = error_of([&] { s << sql; });
  tx.rollback();
  return err;
}

// 1 if the app role holds privilege on table, else 0.
std::string app_privilege_sql(const std::string& table, const std::string& privilege) {
  return "SELECT CAST(has_table_privilege('portcullis_app', '" + table + "', '" + privilege +
         "') AS INTEGER)";
}

std::string json_id(const HttpResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (d.IsObject() && d.HasMember("id") && d["id"].IsString()) {
    return d["id"].GetString();
  }
  return "";
}

// A tenant with one context and one tagged memory in it. The memory is made
// over HTTP (the app's own TenantTx path under RLS); the context is inserted
// as the owner.
struct TenantData {
  Registered who;
  std::string context_id;
  std::string memory_id;
};

TenantData tenant_with_data(const std::string& tag) {
  TenantData out;
  out.who = register_tenant(tag);
  out.context_id = uuid_v7();
  db() << "INSERT INTO contexts (id, tenant_id, name, created_at, updated_at) "
          "VALUES (:id, :t, 'rls context', now(), now())",
      soci::use(out.context_id), soci::use(out.who.tenant_id);
  Browser b = login(out.who.email);
  HttpResponse m = b.call("POST", "/api/v1/memories",
                          R"({"title":"rls memory","content":"only for )" + tag +
                              R"(","context_id":")" + out.context_id + R"(","tags":["rls"]})");
  EXPECT_EQ(m.status, 201) << m.body;
  out.memory_id = json_id(m);
  return out;
}

// ---------------------------------------------------------------------------
// Row-level security as the app role.
TEST(PostgresRlsTest, TEN_4_AppRoleSeesNothingWithoutTenantAndOnlyItsOwnTenantWithIt) {
  if (!is_postgres()) {
    GTEST_SKIP() << kPostgresOnly;
  }
  TenantData a = tenant_with_data("rls-a");
  TenantData b = tenant_with_data("rls-b");
  ASSERT_FALSE(a.memory_id.empty());
  ASSERT_FALSE(b.memory_id.empty());
  const std::string& ta = a.who.tenant_id;
  const std::string& tb = b.who.tenant_id;

  // The owner (its own permissive policy) sees both tenants' rows.
  for (const std::string& t : {ta, tb}) {
    EXPECT_EQ(count_of(db(), "SELECT COUNT(*) FROM memories WHERE tenant_id = :t", {t}), 1);
    EXPECT_EQ(count_of(db(), "SELECT COUNT(*) FROM memory_tags WHERE tenant_id = :t", {t}), 1);
    EXPECT_EQ(count_of(db(), "SELECT COUNT(*) FROM contexts WHERE tenant_id = :t", {t}), 1);
    EXPECT_EQ(count_of(db(), "SELECT COUNT(*) FROM users WHERE tenant_id = :t", {t}), 1);
    EXPECT_GT(count_of(db(), "SELECT COUNT(*) FROM audit_events WHERE tenant_id = :t", {t}), 0);
  }

  std::unique_ptr<soci::session> app = app_session();
  ASSERT_EQ(text_of(*app, "SELECT CAST(current_user AS text)"), "portcullis_app");

  // No tenant set: nothing, not everything.
  for (const std::string& table : kRlsTables) {
    EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM " + table), 0) << table;
  }
  EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM memories WHERE tenant_id = :t", {ta}), 0);
  // set_config(…, true) outside a transaction lasts one statement: a query
  // that forgot its TenantTx still sees nothing.
  set_tenant(*app, ta);
  EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM memories"), 0);

  {
    soci::transaction tx(*app);
    set_tenant(*app, ta);
    EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM memories"), 1);
    EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM memories WHERE id = :id", {a.memory_id}), 1);
    EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM memories WHERE id = :id", {b.memory_id}), 0);
    EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM memories WHERE tenant_id = :t", {tb}), 0);
    EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM memory_tags"), 1);
    EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM contexts"), 1);
    EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM users"), 1);
    EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM users WHERE id = :u", {b.who.user_id}), 0);
    EXPECT_GT(count_of(*app, "SELECT COUNT(*) FROM audit_events"), 0);
    EXPECT_EQ(
        count_of(*app, "SELECT COUNT(*) FROM audit_events WHERE tenant_id IS DISTINCT FROM :t",
                 {ta}),
        0);
    EXPECT_EQ(
        count_of(*app, "SELECT COUNT(*) FROM memories m JOIN contexts c ON c.id = m.context_id"),
        1);
    // B's rows are invisible to writes too (USING): nothing is touched.
    EXPECT_EQ(
        affected_by(*app, "UPDATE memories SET title = 'owned' WHERE id = :id", {b.memory_id}), 0);
    EXPECT_EQ(affected_by(*app, "DELETE FROM contexts WHERE id = :id", {b.context_id}), 0);
    EXPECT_EQ(affected_by(*app, "DELETE FROM users WHERE tenant_id = :t", {tb}), 0);
    tx.rollback();
  }

  // WITH CHECK: under A's setting no row can be written with B's tenant id.
  std::string bad_insert =
      "INSERT INTO memories (id, tenant_id, title, content_enc, created_at, updated_at) VALUES ('" +
      uuid_v7() + "', '" + tb + "', 'planted', 'v1.k1.x', now(), now())";
  EXPECT_THAT(error_in_tenant_tx(*app, ta, bad_insert), HasSubstr("row-level security"));
  EXPECT_THAT(error_in_tenant_tx(
                  *app, ta,
                  "UPDATE memories SET tenant_id = '" + tb + "' WHERE id = '" + a.memory_id + "'"),
              HasSubstr("row-level security"));
  EXPECT_THAT(error_in_tenant_tx(*app, ta,
                                 "INSERT INTO memory_tags (memory_id, tenant_id, tag) VALUES ('" +
                                     b.memory_id + "', '" + tb + "', 'planted')"),
              HasSubstr("row-level security"));
  // The same insert under B's own setting is allowed (the check is the tenant, not the table).
  EXPECT_EQ(error_in_tenant_tx(*app, tb, bad_insert), "");

  // After the transactions: the setting is gone, and so is every row.
  EXPECT_EQ(text_of(*app, "SELECT current_setting('portcullis.tenant_id', true)"), "");
  for (const std::string& table : kRlsTables) {
    EXPECT_EQ(count_of(*app, "SELECT COUNT(*) FROM " + table), 0) << table;
  }
  // And B's data is as B left it.
  EXPECT_EQ(db_text("SELECT title FROM memories WHERE id = :id", b.memory_id), "rls memory");
  EXPECT_EQ(count_of(db(), "SELECT COUNT(*) FROM memories WHERE tenant_id = :t", {tb}), 1);
  EXPECT_EQ(count_of(db(), "SELECT COUNT(*) FROM contexts WHERE tenant_id = :t", {tb}), 1);
}

// ---------------------------------------------------------------------------
// The app role: not superuser, no BYPASSRLS, owns nothing.
TEST(PostgresRolesTest, TEN_4_AppRoleIsNotSuperuserHasNoBypassRlsAndOwnsNothing) {
  if (!is_postgres()) {
    GTEST_SKIP() << kPostgresOnly;
  }
  std::unique_ptr<soci::session> app = app_session();
  EXPECT_EQ(text_of(*app, "SELECT CAST(current_user AS text)"), "portcullis_app");
  int bypass = -1;
  int super = -1;
  int createrole = -1;
  db() << "SELECT CAST(rolbypassrls AS INTEGER), CAST(rolsuper AS INTEGER), "
          "CAST(rolcreaterole AS INTEGER) FROM pg_roles WHERE rolname = 'portcullis_app'",
      soci::into(bypass), soci::into(super), soci::into(createrole);
  EXPECT_EQ(bypass, 0);
  EXPECT_EQ(super, 0);
  EXPECT_EQ(createrole, 0);
  EXPECT_EQ(count_of(db(),
                     "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND "
                     "tableowner = 'portcullis_app'"),
            0);
  EXPECT_EQ(count_of(db(),
                     "SELECT COUNT(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                     "WHERE r.rolname = 'portcullis_app'"),
            0);
  EXPECT_EQ(count_of(db(),
                     "SELECT COUNT(*) FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner "
                     "WHERE r.rolname = 'portcullis_app'"),
            0);
  // The SECURITY DEFINER lookups run as the owner, with a pinned search_path.
  for (const char* fn :
       {"portcullis_login_lookup", "portcullis_email_taken", "portcullis_authenticate",
        "portcullis_invitation_lookup", "portcullis_audit_insert"}) {
    EXPECT_EQ(count_of(db(),
                       "SELECT COUNT(*) FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner "
                       "WHERE p.proname = :f AND p.prosecdef AND r.rolname = 'portcullis_owner' "
                       "AND array_to_string(p.proconfig, ',') LIKE 'search_path=%'",
                       {fn}),
              1)
        << fn;
  }
}

TEST(PostgresRolesTest, TEN_4_RowLevelSecurityIsEnabledAndForcedOnTenantTables) {
  if (!is_postgres()) {
    GTEST_SKIP() << kPostgresOnly;
  }
  for (const std::string& table : kRlsTables) {
    int enabled = -1;
    int forced = -1;
    db() << "SELECT CAST(relrowsecurity AS INTEGER), CAST(relforcerowsecurity AS INTEGER) "
            "FROM pg_class WHERE relname = :n AND relnamespace = CAST('public' AS regnamespace)",
        soci::use(table), soci::into(enabled), soci::into(forced);
    EXPECT_EQ(enabled, 1) << table;
    EXPECT_EQ(forced, 1) << table;
    EXPECT_EQ(count_of(db(),
                       "SELECT COUNT(*) FROM pg_policies WHERE schemaname = 'public' AND "
                       "tablename = :n AND policyname = 'tenant_isolation'",
                       {table}),
              1)
        << table;
  }
}

TEST(PostgresRolesTest, LOG_6_AuditEventsAreAppendOnlyForTheAppRole) {
  if (!is_postgres()) {
    GTEST_SKIP() << kPostgresOnly;
  }
  Registered who = register_tenant("log6");
  ASSERT_FALSE(who.tenant_id.empty());
  std::unique_ptr<soci::session> app = app_session();

  // INSERT (through the owner's function, as app/log/audit.cpp does) and SELECT work.
  std::string id = uuid_v7();
  {
    soci::transaction tx(*app);
    set_tenant(*app, who.tenant_id);
    *app << "SELECT portcullis_audit_insert(CAST(:id AS uuid), now(), CAST(:t AS uuid), "
            "CAST(:u AS uuid), 'test.log6', 'failure', NULL, NULL, NULL, NULL, NULL, NULL, "
            "CAST('{}' AS jsonb))",
        soci::use(id), soci::use(who.tenant_id), soci::use(who.user_id);
    tx.commit();
  }
  {
    soci::transaction tx(*app);
    set_tenant(*app, who.tenant_id);
    EXPECT_EQ(text_of(*app, "SELECT outcome FROM audit_events WHERE id = :id", {id}), "failure");
    tx.commit();
  }

  // UPDATE, DELETE and TRUNCATE: permission denied, tenant set or not.
  for (const std::string& sql :
       {std::string("UPDATE audit_events SET outcome = 'success'"),
        "UPDATE audit_events SET outcome = 'success' WHERE id = '" + id + "'",
        std::string("DELETE FROM audit_events"), "DELETE FROM audit_events WHERE id = '" + id + "'",
        std::string("TRUNCATE audit_events")}) {
    EXPECT_THAT(error_in_tenant_tx(*app, who.tenant_id, sql),
                HasSubstr("permission denied for table audit_events"))
        << sql;
    EXPECT_THAT(error_of([&] { *app << sql; }), HasSubstr("permission denied")) << sql;
  }
  EXPECT_EQ(db_text("SELECT outcome FROM audit_events WHERE id = :id", id), "failure");

  for (const char* privilege : {"UPDATE", "DELETE", "TRUNCATE"}) {
    EXPECT_EQ(count_of(db(), app_privilege_sql("audit_events", privilege)), 0) << privilege;
  }
  for (const char* privilege : {"INSERT", "SELECT"}) {
    EXPECT_EQ(count_of(db(), app_privilege_sql("audit_events", privilege)), 1) << privilege;
  }
}

// #9 item 24: the app role cannot change the schema: DROP, ALTER (columns,
// row-level security), policy and table creation are all refused, on every
// table (SQLSTATE 42501; PostgreSQL words DROP/ALTER as "must be owner").
TEST(PostgresRolesTest, TEN_4_AppRoleCannotDropOrAlterAnyTable) {
  if (!is_postgres()) {
    GTEST_SKIP() << kPostgresOnly;
  }
  std::vector<std::string> tables;
  {
    soci::rowset<std::string> rows =
        (db().prepare << "SELECT CAST(tablename AS text) FROM pg_tables "
                         "WHERE schemaname = 'public' ORDER BY tablename");
    for (const std::string& t : rows) {
      tables.push_back(t);
    }
  }
  for (const std::string& t : kRlsTables) {
    EXPECT_THAT(tables, ::testing::Contains(t));
  }
  std::unique_ptr<soci::session> app = app_session();
  const auto refused =
      ::testing::AnyOf(HasSubstr("must be owner of"), HasSubstr("permission denied"));
  for (const std::string& table : tables) {
    // Names from the catalogue, quoted.
    const std::string q = "\"" + table + "\"";
    for (const std::string& sql :
         {"DROP TABLE " + q + " CASCADE", "ALTER TABLE " + q + " ADD COLUMN evil integer",
          "ALTER TABLE " + q + " RENAME TO evil_" + table,
          "ALTER TABLE " + q + " DISABLE ROW LEVEL SECURITY",
          "ALTER TABLE " + q + " NO FORCE ROW LEVEL SECURITY",
          "ALTER TABLE " + q + " OWNER TO portcullis_app",
          "CREATE POLICY evil ON " + q + " USING (true)",
          "CREATE INDEX evil_idx ON " + q + " ((1))"}) {
      EXPECT_THAT(error_of([&] { *app << sql; }), refused) << sql;
    }
  }
  for (const std::string& table : kRlsTables) {
    EXPECT_THAT(error_of([&] { *app << "DROP POLICY tenant_isolation ON " + table; }), refused)
        << table;
  }
  EXPECT_THAT(error_of([&] { *app << "CREATE TABLE evil (x integer)"; }),
              HasSubstr("permission denied for schema public"));
  // Nothing changed.
  EXPECT_EQ(count_of(db(),
                     "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND "
                     "tableowner <> 'portcullis_owner'"),
            0);
  EXPECT_EQ(count_of(db(),
                     "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = "
                     "'public' AND column_name = 'evil'"),
            0);
  EXPECT_EQ(count_of(db(),
                     "SELECT COUNT(*) FROM pg_class WHERE relname IN ('evil', 'evil_idx') OR "
                     "relname LIKE 'evil\\_%'"),
            0);
}

TEST(PostgresRolesTest, TEN_4_AppRoleCannotWriteSchemaMigrations) {
  if (!is_postgres()) {
    GTEST_SKIP() << kPostgresOnly;
  }
  std::unique_ptr<soci::session> app = app_session();
  long long before = count_of(db(), "SELECT COUNT(*) FROM schema_migrations");
  ASSERT_GT(before, 0);
  for (const char* sql : {"INSERT INTO schema_migrations (version, name, checksum) VALUES "
                          "('9999', 'evil', 'x')",
                          "UPDATE schema_migrations SET checksum = 'x'",
                          "DELETE FROM schema_migrations", "TRUNCATE schema_migrations"}) {
    EXPECT_THAT(error_of([&] { *app << sql; }),
                HasSubstr("permission denied for table schema_migrations"))
        << sql;
  }
  EXPECT_EQ(count_of(db(), "SELECT COUNT(*) FROM schema_migrations"), before);
  for (const char* privilege : {"INSERT", "UPDATE", "DELETE", "TRUNCATE"}) {
    EXPECT_EQ(count_of(db(), app_privilege_sql("schema_migrations", privilege)), 0) << privilege;
  }
}

// ---------------------------------------------------------------------------
// Indexes (DESIGN §6): on a seeded database, every list and lookup query the
// app runs uses its index, as the owner and as the app role under RLS.

constexpr const char* kSeedPrefix = "pgidx-seed-";
constexpr int kSeedTenants = 50;
constexpr const char* kSentinel = "ffffffff-ffff-ffff-ffff-ffffffffffff";

// Set-based seed, as the owner: 50 tenants, each with 50 users (2 sessions
// each), 50 contexts, 1 000 memories with one tag each ("common" on half, one
// of 25 rarer tags on the rest), 500 audit events and 50 invitations. The
// foreign-key checks dominate the time (~12 us per row and key).
const std::vector<std::string> kSeedSql = {
    "INSERT INTO tenants (id, name, created_at, updated_at) "
    "SELECT gen_random_uuid(), 'pgidx-seed-' || g, now(), now() "
    "FROM generate_series(1, 50) g",

    "INSERT INTO users (id, tenant_id, email, display_name, password_hash, role, created_at, "
    "updated_at) "
    "SELECT gen_random_uuid(), t.id, 'seed-' || g || '-' || CAST(t.id AS text) || '@seed.test', "
    "'Seed ' || g, '$argon2id$v=19$m=19456,t=2,p=1$seed$seed', "
    "CASE WHEN g = 1 THEN 'owner' WHEN g < 5 THEN 'admin' ELSE 'member' END, now(), now() "
    "FROM tenants t CROSS JOIN generate_series(1, 50) g WHERE t.name LIKE 'pgidx-seed-%'",

    "INSERT INTO sessions (id, token_hash, user_id, tenant_id, auth_state, csrf_token, "
    "created_at, last_seen_at, expires_at) "
    "SELECT gen_random_uuid(), md5(CAST(gen_random_uuid() AS text)) || md5(random() || ''), "
    "u.id, u.tenant_id, 'full', 'csrf', now(), now(), now() + interval '1 day' "
    "FROM users u CROSS JOIN generate_series(1, 2) g "
    "WHERE u.tenant_id IN (SELECT id FROM tenants WHERE name LIKE 'pgidx-seed-%')",

    "INSERT INTO contexts (id, tenant_id, name, created_at, updated_at) "
    "SELECT gen_random_uuid(), t.id, 'ctx-' || g, now(), now() "
    "FROM tenants t CROSS JOIN generate_series(1, 50) g WHERE t.name LIKE 'pgidx-seed-%'",

    "INSERT INTO memories (id, tenant_id, context_id, title, content_enc, tags, created_by, "
    "created_at, updated_at) "
    "SELECT gen_random_uuid(), t.id, c.id, 'seed ' || g, 'v1.k1.x', "
    "jsonb_build_array(CASE WHEN g % 2 = 0 THEN 'common' ELSE 'tag-' || (g % 25) END), NULL, "
    "now(), now() "
    "FROM tenants t CROSS JOIN generate_series(1, 1000) g "
    "JOIN contexts c ON c.tenant_id = t.id AND c.name = 'ctx-' || (g % 50 + 1) "
    "WHERE t.name LIKE 'pgidx-seed-%'",

    "INSERT INTO memory_tags (memory_id, tenant_id, tag) "
    "SELECT m.id, m.tenant_id, m.tags ->> 0 FROM memories m "
    "WHERE m.tenant_id IN (SELECT id FROM tenants WHERE name LIKE 'pgidx-seed-%')",

    // The blind index: term 1 on every memory, term 2 on half, term 3 on
    // one in a hundred (md5 gives the 32 hex digits of a term hash).
    "INSERT INTO memory_terms (tenant_id, memory_id, term_hash) "
    "SELECT m.tenant_id, m.id, md5('seed-term-' || k) FROM memories m "
    "CROSS JOIN generate_series(1, 3) k "
    "WHERE m.tenant_id IN (SELECT id FROM tenants WHERE name LIKE 'pgidx-seed-%') AND "
    "(k = 1 OR (k = 2 AND CAST(substr(m.title, 6) AS int) % 2 = 0) OR "
    "(k = 3 AND CAST(substr(m.title, 6) AS int) % 100 = 0))",

    "INSERT INTO audit_events (id, ts, tenant_id, user_id, event, outcome) "
    "SELECT gen_random_uuid(), now(), t.id, NULL, 'seed.event', 'success' "
    "FROM tenants t CROSS JOIN generate_series(1, 500) g WHERE t.name LIKE 'pgidx-seed-%'",

    "INSERT INTO invitations (id, tenant_id, email, role, token_hash, created_at, expires_at) "
    "SELECT gen_random_uuid(), t.id, 'invitee-' || g || '@seed.test', 'member', "
    "md5(CAST(gen_random_uuid() AS text)) || md5(random() || ''), now(), "
    "now() + interval '7 days' "
    "FROM tenants t CROSS JOIN generate_series(1, 50) g WHERE t.name LIKE 'pgidx-seed-%'",
};

const std::vector<std::string> kSeededTables = {"tenants",      "users",        "sessions",
                                                "contexts",     "memories",     "memory_tags",
                                                "memory_terms", "audit_events", "invitations"};

void delete_seed(soci::session& s) {
  const std::string seeded = "(SELECT id FROM tenants WHERE name LIKE 'pgidx-seed-%')";
  // Children first; audit_events would otherwise only get tenant_id SET NULL.
  for (const char* table : {"memory_terms", "memory_tags", "memories", "audit_events",
                            "invitations", "sessions", "contexts", "users"}) {
    s << std::string("DELETE FROM ") + table + " WHERE tenant_id IN " + seeded;
  }
  s << "DELETE FROM tenants WHERE name LIKE 'pgidx-seed-%'";
  for (const std::string& table : kSeededTables) {
    s << "ANALYZE " + table;
  }
}

// Deletes the seed when the test ends, passed or not.
class SeedGuard {
 public:
  explicit SeedGuard(soci::session& s) : s_(s) {}
  SeedGuard(const SeedGuard&) = delete;
  SeedGuard& operator=(const SeedGuard&) = delete;
  ~SeedGuard() {
    if (done_) {
      return;
    }
    try {
      delete_seed(s_);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "deleting the seeded rows failed: " << e.what();
    }
  }
  void delete_now() {
    done_ = true;
    delete_seed(s_);
  }

 private:
  soci::session& s_;
  bool done_ = false;
};

std::string explain(soci::session& s, const std::string& sql) {
  std::string plan;
  soci::rowset<std::string> rows = (s.prepare << "EXPLAIN (FORMAT TEXT) " + sql);
  for (const std::string& line : rows) {
    plan += line + "\n";
  }
  return plan;
}

// The scan nodes of a plan, e.g. "Index Scan Backward using memories_tenant_id_idx on memories".
std::vector<std::string> scans(const std::string& plan) {
  static const std::regex kScan(
      R"(((Parallel )?(Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan|Bitmap Index Scan)( Backward)?( using \S+)? on \S+))");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(plan.begin(), plan.end(), kScan);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const std::string& p : parts) {
    out += (out.empty() ? "" : sep) + p;
  }
  return out;
}

bool has_sort_node(const std::string& plan) {
  static const std::regex kSort(R"((^|->\s+)(Incremental )?Sort\s+\()");
  std::istringstream in(plan);
  std::string line;
  while (std::getline(in, line)) {
    size_t start = line.find_first_not_of(' ');
    if (start != std::string::npos && std::regex_search(line.substr(start), kSort)) {
      return true;
    }
  }
  return false;
}

struct PlannedQuery {
  std::string name;
  std::string sql;
  std::vector<std::string> indexes;  // the plan must use one of these
  // A single-table keyset list over many rows of the tenant (>= 500 here):
  // the index must give the order, so no Sort node. Elsewhere a Sort is only
  // printed: on small sets (50 contexts) a bitmap scan plus a sort is a fine
  // plan, and the tag join is estimated at a handful of rows (the planner
  // cannot see that a tag row's tenant is its memory's tenant), so it hashes
  // the tenant's memories and sorts.
  bool ordered_by_index;
};

TEST(PostgresIndexTest, TEN_2_EveryTenantQueryUsesItsIndexAsOwnerAndUnderRls) {
  if (!is_postgres()) {
    GTEST_SKIP() << kPostgresOnly;
  }
  auto started = std::chrono::steady_clock::now();
  std::unique_ptr<soci::session> owner = owner_session();
  delete_seed(*owner);  // nothing, unless an earlier run was interrupted
  SeedGuard guard(*owner);
  {
    soci::transaction tx(*owner);
    for (const std::string& sql : kSeedSql) {
      *owner << sql;
    }
    tx.commit();
  }
  for (const std::string& table : kSeededTables) {
    *owner << "ANALYZE " + table;
  }
  auto seeded_at = std::chrono::steady_clock::now();
  ASSERT_EQ(count_of(*owner, "SELECT COUNT(*) FROM tenants WHERE name LIKE 'pgidx-seed-%'"),
            kSeedTenants);
  long long memories = count_of(*owner,
                                "SELECT COUNT(*) FROM memories m JOIN tenants t ON t.id = "
                                "m.tenant_id WHERE t.name LIKE 'pgidx-seed-%'");
  ASSERT_GE(memories, 50000);

  // One tenant T and its rows, as literals for EXPLAIN.
  const std::string t = text_of(*owner, "SELECT CAST(id AS text) FROM tenants WHERE name = :n",
                                {kSeedPrefix + std::string("7")});
  ASSERT_FALSE(t.empty());
  const std::string c = text_of(
      *owner, "SELECT CAST(id AS text) FROM contexts WHERE tenant_id = :t AND name = 'ctx-3'", {t});
  const std::string m = text_of(
      *owner, "SELECT CAST(id AS text) FROM memories WHERE tenant_id = :t ORDER BY id LIMIT 1",
      {t});
  const std::string u = text_of(
      *owner, "SELECT CAST(id AS text) FROM users WHERE tenant_id = :t AND role = 'member' LIMIT 1",
      {t});
  const std::string email = text_of(*owner, "SELECT email FROM users WHERE id = :u", {u});
  const std::string token_hash =
      text_of(*owner, "SELECT token_hash FROM sessions WHERE user_id = :u LIMIT 1", {u});
  // The app binds "now" as a formatted time; a date literal keeps soci's
  // ":name" parser away from the colons of a time of day.
  const std::string today = text_of(*owner, "SELECT CAST(CAST(now() AS date) AS text)");
  ASSERT_FALSE(c.empty() || m.empty() || u.empty() || email.empty() || token_hash.empty());

  auto q = [](const std::string& v) { return "'" + v + "'"; };
  const std::string memory_columns =
      "m.id, m.context_id, m.title, m.content_enc, CAST(m.tags AS TEXT), m.created_by, "
      "m.created_at, m.updated_at";
  const std::string member_columns =
      "id, email, display_name, role, CAST(mfa_enabled AS INTEGER), CAST(disabled AS INTEGER), "
      "created_at, last_login_at";
  const std::string session_columns =
      "id, user_id, tenant_id, auth_state, csrf_token, CAST(remember_me AS INTEGER), created_at, "
      "last_seen_at, expires_at, reauthenticated_at, mfa_verified_at, ip, user_agent";
  const std::string account_columns =
      "u.id, u.email, u.display_name, u.role, u.password_hash, CAST(u.mfa_enabled AS INTEGER), "
      "CAST(u.disabled AS INTEGER), t.id, t.name, CAST(t.require_mfa AS INTEGER)";
  const std::string limit = " LIMIT 21";  // default page size + 1
  // The search of app/store/memories.cpp (kSearch): `drive` walks its index
  // range, the 7 probes check the other terms (unused slots repeat the
  // first), then the context and tag filters (NULL = none).
  auto term = [&](int k) {
    return text_of(*owner, "SELECT md5('seed-term-' || CAST(:k AS text))", {std::to_string(k)});
  };
  auto search_from = [&](const std::string& drive, const std::vector<std::string>& others,
                         const std::string& context, const std::string& tag) {
    std::string sql =
        " FROM memory_terms t JOIN memories m ON m.tenant_id = t.tenant_id AND m.id = "
        "t.memory_id WHERE t.tenant_id = " +
        q(t) + " AND t.term_hash = " + q(drive) + " AND t.memory_id < " + q(kSentinel);
    for (size_t i = 0; i < 7; ++i) {  // unused slots are NULL, as the store binds them
      const std::string h =
          i < others.size() ? "CAST(" + q(others[i]) + " AS text)" : "CAST(NULL AS text)";
      sql += " AND (" + h +
             " IS NULL OR EXISTS (SELECT 1 FROM memory_terms x WHERE x.tenant_id = " + q(t) +
             " AND x.term_hash = " + h + " AND x.memory_id = t.memory_id OFFSET 0))";
    }
    const std::string ctx = context.empty() ? "NULL" : q(context);
    const std::string tg = tag.empty() ? "NULL" : q(tag);
    sql += " AND (CAST(" + ctx + " AS uuid) IS NULL OR m.context_id = CAST(" + ctx + " AS uuid))";
    sql += " AND (CAST(" + tg + " AS text) IS NULL OR EXISTS (SELECT 1 FROM memory_tags g WHERE " +
           "g.tenant_id = " + q(t) + " AND g.tag = CAST(" + tg +
           " AS text) AND g.memory_id = t.memory_id OFFSET 0))";
    return sql;
  };
  const std::string t_all = term(1);
  const std::string t_half = term(2);
  const std::string t_rare = term(3);
  auto term_count = [&](const std::string& h) {
    return "(SELECT COUNT(*) FROM (SELECT 1 FROM memory_terms WHERE tenant_id = " + q(t) +
           " AND term_hash = " + q(h) + " LIMIT 2000) c)";
  };

  // The statements of handlers/*.cpp and app/auth/*.cpp, binds replaced by literals.
  const std::vector<PlannedQuery> queries = {
      {"memories list",
       "SELECT " + memory_columns + " FROM memories m WHERE m.tenant_id = " + q(t) +
           " AND m.id < " + q(kSentinel) + " ORDER BY m.id DESC" + limit,
       {"memories_tenant_id_idx"},
       true},
      {"memories list ?context_id",
       "SELECT " + memory_columns + " FROM memories m WHERE m.tenant_id = " + q(t) +
           " AND m.context_id = " + q(c) + " AND m.id < " + q(kSentinel) + " ORDER BY m.id DESC" +
           limit,
       {"memories_tenant_context_idx"},
       false},
      {"memories list ?tag",
       "SELECT " + memory_columns +
           " FROM memories m JOIN memory_tags mt ON mt.memory_id = m.id WHERE mt.tenant_id = " +
           q(t) + " AND mt.tag = 'tag-3' AND m.tenant_id = " + q(t) + " AND mt.memory_id < " +
           q(kSentinel) + " ORDER BY mt.memory_id DESC" + limit,
       {"memory_tags_tenant_tag_idx"},
       false},
      {"memories list ?tag (common tag)",
       "SELECT " + memory_columns +
           " FROM memories m JOIN memory_tags mt ON mt.memory_id = m.id WHERE mt.tenant_id = " +
           q(t) + " AND mt.tag = 'common' AND m.tenant_id = " + q(t) + " AND mt.memory_id < " +
           q(kSentinel) + " ORDER BY mt.memory_id DESC" + limit,
       {"memory_tags_tenant_tag_idx"},
       false},
      {"memories list ?tag&context_id",
       "SELECT " + memory_columns +
           " FROM memories m JOIN memory_tags mt ON mt.memory_id = m.id WHERE mt.tenant_id = " +
           q(t) + " AND mt.tag = 'common' AND m.tenant_id = " + q(t) + " AND m.context_id = " +
           q(c) + " AND mt.memory_id < " + q(kSentinel) + " ORDER BY mt.memory_id DESC" + limit,
       {"memory_tags_tenant_tag_idx"},
       false},
      {"memories search (one common term)",
       "SELECT " + memory_columns + search_from(t_all, {}, "", "") + " ORDER BY t.memory_id DESC" +
           limit,
       {"memory_terms_pkey"},
       true},
      {"memories search (rare term first, two probes)",
       "SELECT " + memory_columns + search_from(t_rare, {t_all, t_half}, "", "") +
           " ORDER BY t.memory_id DESC" + limit,
       {"memory_terms_pkey"},
       false},
      // A narrow context (20 memories here) may drive instead, on its own
      // index, probing the terms.
      {"memories search + context + tag",
       "SELECT " + memory_columns + search_from(t_half, {t_all}, c, "common") +
           " ORDER BY t.memory_id DESC" + limit,
       {"memory_terms_pkey", "memory_terms_memory_idx"},
       false},
      {"memories search count",
       "SELECT COUNT(*) FROM (SELECT 1" + search_from(t_all, {t_half}, "", "") +
           " AND t.memory_id >= CAST('00000000-0000-0000-0000-000000000000' AS uuid) LIMIT 1001) c",
       {"memory_terms_pkey"},
       false},
      {"memories search count window",
       "SELECT memory_id FROM memory_terms WHERE tenant_id = " + q(t) +
           " AND term_hash = " + q(t_all) + " ORDER BY memory_id DESC LIMIT 1 OFFSET 1999",
       {"memory_terms_pkey"},
       false},
      {"memories search term counts",
       "SELECT " + term_count(t_all) + ", " + term_count(t_half) + ", " + term_count(t_rare),
       {"memory_terms_pkey", "memory_terms_memory_idx"},
       false},
      {"memory terms of one memory (update, reindex)",
       "DELETE FROM memory_terms WHERE tenant_id = " + q(t) + " AND memory_id = " + q(m),
       {"memory_terms_memory_idx"},
       false},
      {"memories count",
       "SELECT COUNT(*) FROM (SELECT 1 FROM memories m WHERE m.tenant_id = " + q(t) +
           " LIMIT 1001) c",
       {"memories_tenant_id_idx", "memories_tenant_context_idx"},
       false},
      {"memories count ?context_id",
       "SELECT COUNT(*) FROM (SELECT 1 FROM memories m WHERE m.tenant_id = " + q(t) +
           " AND m.context_id = " + q(c) + " LIMIT 1001) c",
       {"memories_tenant_context_idx"},
       false},
      {"memories count ?tag",
       "SELECT COUNT(*) FROM (SELECT 1 FROM memory_tags mt WHERE mt.tenant_id = " + q(t) +
           " AND mt.tag = 'common' LIMIT 1001) c",
       {"memory_tags_tenant_tag_idx"},
       false},
      {"memory by id",
       "SELECT " + memory_columns + " FROM memories m WHERE m.tenant_id = " + q(t) +
           " AND m.id = " + q(m),
       {"memories_pkey", "memories_tenant_id_idx"},
       false},
      {"memory delete",
       "DELETE FROM memories WHERE tenant_id = " + q(t) + " AND id = " + q(m),
       {"memories_pkey", "memories_tenant_id_idx"},
       false},
      {"memory context check",
       "SELECT COUNT(*) FROM contexts WHERE tenant_id = " + q(t) + " AND id = " + q(c),
       {"contexts_pkey", "contexts_tenant_id_idx", "contexts_tenant_id_name_key"},
       false},
      {"contexts list",
       "SELECT id, name, created_at FROM contexts WHERE tenant_id = " + q(t) + " AND id < " +
           q(kSentinel) + " ORDER BY id DESC" + limit,
       {"contexts_tenant_id_idx", "contexts_tenant_id_name_key"},
       false},
      {"context by id",
       "SELECT id, name, created_at FROM contexts WHERE tenant_id = " + q(t) + " AND id = " + q(c),
       {"contexts_pkey", "contexts_tenant_id_idx"},
       false},
      {"context name in use",
       "SELECT COUNT(*) FROM contexts WHERE tenant_id = " + q(t) +
           " AND name = 'ctx-9' AND id <> " + q(c),
       {"contexts_tenant_id_name_key"},
       false},
      {"context delete: count memories",
       "SELECT COUNT(*) FROM memories WHERE tenant_id = " + q(t) + " AND context_id = " + q(c),
       {"memories_tenant_context_idx", "memories_context_id_idx"},
       false},
      {"members list",
       "SELECT " + member_columns + " FROM users WHERE tenant_id = " + q(t) + " AND id < " +
           q(kSentinel) + " ORDER BY id DESC" + limit,
       {"users_tenant_id_idx"},
       false},
      {"member by id",
       "SELECT " + member_columns + " FROM users WHERE tenant_id = " + q(t) + " AND id = " + q(u),
       {"users_pkey", "users_tenant_id_idx"},
       false},
      {"members active owners",
       "SELECT COUNT(*) FROM users WHERE tenant_id = " + q(t) +
           " AND role = 'owner' AND disabled = FALSE",
       {"users_tenant_id_idx"},
       false},
      {"account by id (me)",
       "SELECT " + account_columns +
           " FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.id = " + q(u),
       {"users_pkey"},
       false},
      {"login lookup (portcullis_login_lookup body)",
       "SELECT " + account_columns +
           " FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = " + q(email),
       {"users_email_key"},
       false},
      {"authentication (portcullis_authenticate body)",
       "SELECT s.id, u.role, u.disabled, t.name FROM sessions s JOIN users u ON u.id = "
       "s.user_id AND u.tenant_id = s.tenant_id JOIN tenants t ON t.id = s.tenant_id WHERE "
       "s.token_hash = " +
           q(token_hash) + " AND s.revoked_at IS NULL",
       {"sessions_token_hash_key"},
       false},
      {"invitations list",
       "SELECT id, email, role, created_at, expires_at FROM invitations WHERE tenant_id = " + q(t) +
           " AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > " + q(today) +
           " AND id < " + q(kSentinel) + " ORDER BY id DESC" + limit,
       {"invitations_tenant_id_idx"},
       false},
      {"audit events list",
       "SELECT id, ts, event, outcome, user_id, ip, request_id, target_type, target_id, "
       "CAST(details AS TEXT) FROM audit_events WHERE tenant_id = " +
           q(t) + " AND id < " + q(kSentinel) + " ORDER BY id DESC" + limit,
       {"audit_events_tenant_id_idx"},
       true},
      {"sessions list",
       "SELECT " + session_columns + " FROM sessions WHERE user_id = " + q(u) +
           " AND revoked_at IS NULL AND expires_at > " + q(today) +
           " AND auth_state = 'full' AND id < " + q(kSentinel) + " ORDER BY id DESC" + limit,
       {"sessions_user_id_expires_idx"},
       false},
      {"session by token hash",
       "SELECT " + session_columns + " FROM sessions WHERE token_hash = " + q(token_hash) +
           " AND revoked_at IS NULL",
       {"sessions_token_hash_key"},
       false},
      {"sessions eviction",
       "SELECT id FROM sessions WHERE user_id = " + q(u) + " AND expires_at > " + q(today) +
           " ORDER BY id DESC",
       {"sessions_user_id_expires_idx"},
       false},
      {"sessions revoke all",
       "DELETE FROM sessions WHERE user_id = " + q(u),
       {"sessions_user_id_expires_idx"},
       false},
  };
  const std::vector<std::string> forbidden = {
      "Seq Scan on memories",     "Seq Scan on contexts",    "Seq Scan on users",
      "Seq Scan on audit_events", "Seq Scan on memory_tags", "Seq Scan on sessions",
      "Seq Scan on invitations",  "Seq Scan on memory_terms"};

  std::unique_ptr<soci::session> app = app_session();
  for (const PlannedQuery& pq : queries) {
    std::string owner_plan = explain(*owner, pq.sql);
    std::string app_plan;
    {
      soci::transaction tx(*app);
      set_tenant(*app, t);
      app_plan = explain(*app, pq.sql);
      tx.rollback();
    }
    for (const auto& [role, plan] : {std::pair<std::string, std::string>{"owner", owner_plan},
                                     std::pair<std::string, std::string>{"app+RLS", app_plan}}) {
      for (const std::string& bad : forbidden) {
        EXPECT_THAT(plan, ::testing::Not(HasSubstr(bad))) << pq.name << " as " << role << "\n"
                                                          << pq.sql << "\n"
                                                          << plan;
      }
      bool uses_index = false;
      for (const std::string& index : pq.indexes) {
        uses_index = uses_index || plan.find(" " + index + " ") != std::string::npos;
      }
      EXPECT_TRUE(uses_index) << pq.name << " as " << role << " uses none of "
                              << join(pq.indexes, ", ") << "\n"
                              << pq.sql << "\n"
                              << plan;
      if (pq.ordered_by_index) {
        EXPECT_FALSE(has_sort_node(plan))
            << pq.name << " as " << role << " sorts instead of reading the index in order\n"
            << plan;
      }
    }
    auto summary = [](const std::string& plan) {
      return join(scans(plan), " + ") + (has_sort_node(plan) ? " + Sort" : "");
    };
    std::cout << "[ PLAN     ] " << pq.name << ": owner: " << summary(owner_plan)
              << " | app+RLS: " << summary(app_plan) << "\n";
  }
  // The RLS qual is really in the app role's plan (and not in the owner's).
  {
    soci::transaction tx(*app);
    set_tenant(*app, t);
    EXPECT_THAT(explain(*app, queries.front().sql), HasSubstr("current_setting"));
    tx.rollback();
  }
  EXPECT_THAT(explain(*owner, queries.front().sql), ::testing::Not(HasSubstr("current_setting")));

  guard.delete_now();
  EXPECT_EQ(count_of(*owner, "SELECT COUNT(*) FROM tenants WHERE name LIKE 'pgidx-seed-%'"), 0);
  EXPECT_EQ(count_of(*owner, "SELECT COUNT(*) FROM audit_events WHERE event = 'seed.event'"), 0);
  EXPECT_EQ(count_of(*owner, "SELECT COUNT(*) FROM memories WHERE content_enc = 'v1.k1.x'"), 0);

  auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::cout << "[ PLAN     ] seeded " << memories << " memories over " << kSeedTenants
            << " tenants in " << secs(seeded_at - started)
            << " s; plans checked and seed deleted in "
            << secs(std::chrono::steady_clock::now() - seeded_at) << " s\n";
}

}  // namespace
}  // namespace portcullis::testing
