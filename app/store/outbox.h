// The outbox store: mail to send (DESIGN §6, second slice). enqueue() writes
// in the caller's transaction, so the mail commits or rolls back with the
// change that caused it; the rest is for `portcullis mail` (app/mail), each
// call in a transaction of its own.
//
// Row life: pending → (claim) sending → sent, or back to pending with a later
// next_attempt_at, or dead after the last allowed attempt; dropped when the
// row can never be sent (an address no header may carry). A claimed row's
// next_attempt_at is its lease: a deliverer that died mid-send leaves a
// `sending` row that becomes claimable again when the lease ends.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/db/connection.h"
#include "app/db/tx.h"

namespace portcullis::store::outbox {

struct OutboxMail {
  std::string kind;                           // template name, [a-z][a-z0-9_]*
  std::string to_address;                     // normalised address of the recipient
  std::string to_name;                        // display name, may be empty
  std::map<std::string, std::string> params;  // template values
  std::string tenant_id;                      // for audit; may be empty
  std::string user_id;                        // for audit; may be empty
};

// A claimed row, as the deliverer needs it.
struct ClaimedMail {
  std::string id;
  OutboxMail mail;
  int attempts = 0;  // including this one
};

struct DeadLetter {
  std::string id;
  std::string kind;
  int attempts = 0;
  std::string last_error;
  std::string created_at;
};

// Adds a pending row, due now, in `tx`; returns its id. Throws
// std::invalid_argument for a malformed kind (nothing is written).
std::string enqueue(Tx& tx, const OutboxMail& mail);

// The per-account cap (app/auth/notify.h): enqueues `mail` in `tx` as
// enqueue() does, unless the account `mail.user_id` (REQUIRES: not empty)
// already has `max_rows` notice rows (any status) created after `since_ms`;
// then nothing is written and nullopt comes back. Request rows (kinds ending
// in `_request`: a forgot-password, verification or address-change request,
// each limited by its own throttle) are not notices and do not count, so
// resends or change requests cannot use up the cap and silence a notice.
// Atomic against concurrent callers for the same account: the count and the
// insert are serialised per account until `tx` ends. PostgreSQL: a
// transaction-scoped advisory lock on the user id, taken before the count
// (READ COMMITTED: the count then sees every row committed by the previous
// holder). SQLite: a write Tx (BEGIN IMMEDIATE) holds the database's write
// lock from its start, so no other writer runs between the count and the
// insert (a read Tx could not insert past a concurrent writer either: its
// upgrade to a writer fails with SQLITE_BUSY).
[[nodiscard]] std::optional<std::string> enqueue_capped(Tx& tx,
                                                        const OutboxMail& mail,
                                                        int64_t max_rows,
                                                        int64_t since_ms);

// Takes up to `limit` rows due at `now_ms` (pending, or sending with an
// expired lease), oldest first: each becomes `sending`, its attempts + 1 and
// its lease ends at now_ms + lease_ms. Two deliverers never get the same row
// (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the write transaction's lock).
// Commits before returning.
std::vector<ClaimedMail> claim(Db& db, int64_t now_ms, int64_t lease_ms, int limit);

// The row was accepted by the transport.
void mark_sent(Db& db, const std::string& id, const std::string& message_id, int64_t now_ms);
// The attempt failed: back to pending, due at `next_at_ms`.
void mark_retry(Db& db, const std::string& id, const std::string& error, int64_t next_at_ms);
// The attempt failed for the last time (or for good): dead, kept for `mail status`.
void mark_dead(Db& db, const std::string& id, const std::string& error);
// The row can never be sent (e.g. an address no header may carry).
void mark_dropped(Db& db, const std::string& id, const std::string& error);

// Row counts by status (statuses without rows are absent).
std::map<std::string, int64_t> count_by_status(Db& db);
// The dead rows, oldest first, at most `limit`.
std::vector<DeadLetter> dead_letters(Db& db, int limit);
// A dead row back to pending, due now, attempts reset. False if `id` is not
// a dead row.
[[nodiscard]] bool retry_dead(Db& db, const std::string& id, int64_t now_ms);

}  // namespace portcullis::store::outbox
