#include "app/store/outbox.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "app/crypto/random.h"
#include "app/db/time.h"

namespace portcullis::store::outbox {
namespace {

constexpr Statement kInsert{
    "outbox.insert",
    "INSERT INTO outbox (id, kind, to_address, to_name, params, tenant_id, user_id, status, "
    "attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, CAST($5 AS jsonb), "
    "CAST($6 AS uuid), CAST($7 AS uuid), 'pending', 0, $8, $8)",
    "INSERT INTO outbox (id, kind, to_address, to_name, params, tenant_id, user_id, status, "
    "attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, "
    "$8, $8)"};

constexpr Statement kCountForUserSince{
    "outbox.count_for_user_since",
    "SELECT COUNT(*) FROM outbox WHERE user_id = CAST($1 AS uuid) "
    "AND created_at > CAST($2 AS timestamptz) AND kind NOT LIKE '%!_request' ESCAPE '!'",
    "SELECT COUNT(*) FROM outbox WHERE user_id = $1 AND created_at > $2 "
    "AND kind NOT LIKE '%!_request' ESCAPE '!'"};

// One account's capped enqueues, one at a time (PostgreSQL; see
// enqueue_capped). The two-key form keeps these locks apart from the
// migrator's one-key lock; hashtext() maps the user id onto the second key
// (a collision only serialises two accounts' notices, never mixes counts).
constexpr Statement kLockAccountMail{
    "outbox.lock_account_mail", "SELECT pg_advisory_xact_lock(7231002, hashtext(CAST($1 AS text)))",
    "SELECT 1"};

// Due rows: pending, or sending with an expired lease (a deliverer died).
constexpr Statement kClaim{
    "outbox.claim",
    "UPDATE outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = $2 "
    "WHERE id IN (SELECT id FROM outbox WHERE status IN ('pending', 'sending') "
    "AND next_attempt_at <= CAST($1 AS timestamptz) ORDER BY next_attempt_at LIMIT $3 "
    "FOR UPDATE SKIP LOCKED) "
    "RETURNING id, kind, to_address, to_name, CAST(params AS text), tenant_id, user_id, attempts",
    "UPDATE outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = $2 "
    "WHERE id IN (SELECT id FROM outbox WHERE status IN ('pending', 'sending') "
    "AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $3) "
    "RETURNING id, kind, to_address, to_name, params, tenant_id, user_id, attempts"};

constexpr Statement kMarkSent{
    "outbox.mark_sent",
    "UPDATE outbox SET status = 'sent', sent_at = $3, message_id = $2, last_error = NULL "
    "WHERE id = $1 AND status = 'sending'"};
constexpr Statement kMarkRetry{
    "outbox.mark_retry",
    "UPDATE outbox SET status = 'pending', last_error = $2, next_attempt_at = $3 "
    "WHERE id = $1 AND status = 'sending'"};
constexpr Statement kMarkFinal{
    "outbox.mark_final",
    "UPDATE outbox SET status = $2, last_error = $3 WHERE id = $1 AND status = 'sending'"};
constexpr Statement kCounts{"outbox.counts",
                            "SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status"};
constexpr Statement kDead{
    "outbox.dead",
    "SELECT id, kind, attempts, last_error, created_at FROM outbox WHERE status = 'dead' "
    "ORDER BY created_at, id LIMIT $1"};
constexpr Statement kRetryDead{
    "outbox.retry_dead",
    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, "
    "last_error = NULL WHERE id = $1 AND status = 'dead'"};

bool valid_kind(const std::string& kind) {
  if (kind.empty() || kind.size() > 64 || kind[0] < 'a' || kind[0] > 'z') {
    return false;
  }
  for (char c : kind) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> nullable(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

std::string params_json(const std::map<std::string, std::string>& params) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& [key, value] : params) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  w.EndObject();
  return buf.GetString();
}

// String members only; anything else in the column is ignored.
std::map<std::string, std::string> parse_params(const std::string& json) {
  std::map<std::string, std::string> out;
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  if (d.HasParseError() || !d.IsObject()) {
    return out;
  }
  for (const auto& m : d.GetObject()) {
    if (m.value.IsString()) {
      out.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                  std::string(m.value.GetString(), m.value.GetStringLength()));
    }
  }
  return out;
}

// last_error is short and printable: the column's limit, no line breaks.
std::string short_error(const std::string& error) {
  std::string out;
  for (char c : error) {
    if (out.size() >= 200) {
      break;
    }
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
  }
  // Never end inside a UTF-8 sequence.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80) != 0) {
    out.pop_back();
  }
  return out;
}

}  // namespace

std::string enqueue(Tx& tx, const OutboxMail& mail) {
  if (!valid_kind(mail.kind)) {
    throw std::invalid_argument("outbox: malformed mail kind");
  }
  std::string id = uuid_v7();
  tx.run(kInsert, {id, mail.kind, mail.to_address, mail.to_name, params_json(mail.params),
                   nullable(mail.tenant_id), nullable(mail.user_id), format_time_ms(now_ms())});
  return id;
}

std::optional<std::string> enqueue_capped(Tx& tx,
                                          const OutboxMail& mail,
                                          int64_t max_rows,
                                          int64_t since_ms) {
  if (mail.user_id.empty()) {
    throw std::invalid_argument("outbox: a capped mail needs its account");
  }
  if (tx.db().backend() == Backend::kPostgresql) {
    tx.run(kLockAccountMail, {mail.user_id});
  }
  Rows rows = tx.run(kCountForUserSince, {mail.user_id, format_time_ms(since_ms)});
  if ((rows.empty() ? 0 : rows[0].integer(0)) >= max_rows) {
    return std::nullopt;
  }
  return enqueue(tx, mail);
}

std::vector<ClaimedMail> claim(Db& db, int64_t now, int64_t lease_ms, int limit) {
  Tx tx(db);
  Rows rows = tx.run(kClaim, {format_time_ms(now), format_time_ms(now + lease_ms), limit});
  tx.commit();
  std::vector<ClaimedMail> out;
  out.reserve(rows.size());
  for (const Row& row : rows) {
    ClaimedMail c;
    c.id = row.text(0);
    c.mail.kind = row.text(1);
    c.mail.to_address = row.text(2);
    c.mail.to_name = row.text(3);
    c.mail.params = parse_params(row.text(4));
    c.mail.tenant_id = row.text(5);
    c.mail.user_id = row.text(6);
    c.attempts = static_cast<int>(row.integer(7));
    out.push_back(std::move(c));
  }
  // RETURNING gives no order: oldest (time-ordered id) first.
  std::sort(out.begin(), out.end(),
            [](const ClaimedMail& a, const ClaimedMail& b) { return a.id < b.id; });
  return out;
}

void mark_sent(Db& db, const std::string& id, const std::string& message_id, int64_t now) {
  Tx tx(db);
  tx.run(kMarkSent, {id, message_id, format_time_ms(now)});
  tx.commit();
}

void mark_retry(Db& db, const std::string& id, const std::string& error, int64_t next_at_ms) {
  Tx tx(db);
  tx.run(kMarkRetry, {id, short_error(error), format_time_ms(next_at_ms)});
  tx.commit();
}

void mark_dead(Db& db, const std::string& id, const std::string& error) {
  Tx tx(db);
  tx.run(kMarkFinal, {id, "dead", short_error(error)});
  tx.commit();
}

void mark_dropped(Db& db, const std::string& id, const std::string& error) {
  Tx tx(db);
  tx.run(kMarkFinal, {id, "dropped", short_error(error)});
  tx.commit();
}

std::map<std::string, int64_t> count_by_status(Db& db) {
  Tx tx(db, TxKind::kRead);
  Rows rows = tx.run(kCounts);
  tx.commit();
  std::map<std::string, int64_t> out;
  for (const Row& row : rows) {
    out[row.text(0)] = row.integer(1);
  }
  return out;
}

std::vector<DeadLetter> dead_letters(Db& db, int limit) {
  Tx tx(db, TxKind::kRead);
  Rows rows = tx.run(kDead, {limit});
  tx.commit();
  std::vector<DeadLetter> out;
  for (const Row& row : rows) {
    out.push_back(DeadLetter{row.text(0), row.text(1), static_cast<int>(row.integer(2)),
                             row.text(3), row.text(4)});
  }
  return out;
}

bool retry_dead(Db& db, const std::string& id, int64_t now) {
  Tx tx(db);
  bool changed = tx.run(kRetryDead, {id, format_time_ms(now)}).affected > 0;
  tx.commit();
  return changed;
}

}  // namespace portcullis::store::outbox
