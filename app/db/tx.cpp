#include "app/db/tx.h"

namespace portcullis {

Tx::Tx(Db& db, TxKind kind) : db_(db), sql_(db.session()) {
  if (db.backend() == Backend::kSqlite && kind == TxKind::kWrite) {
    // SOCI's begin() sends a deferred BEGIN; see the header for why a
    // writer must take the lock up front.
    sql_ << "BEGIN IMMEDIATE";
  } else {
    sql_.begin();
  }
  open_ = true;
  db_.transaction_began();
}

void Tx::commit() {
  sql_.commit();
  open_ = false;
  db_.transaction_ended(true);
}

Tx::~Tx() {
  if (!open_) {
    return;
  }
  try {
    sql_.rollback();
  } catch (...) {
    // The connection is in doubt: the next request reconnects.
    db_.mark_broken();
  }
  db_.transaction_ended(false);
}

void serialise_writers(soci::session& sql, WriterScope scope, const std::string& id) {
  if (sql.get_backend_name() != "postgresql") {
    return;
  }
  std::string locked;
  if (scope == WriterScope::kTenant) {
    sql << "SELECT id FROM tenants WHERE id = :id FOR UPDATE", soci::use(id), soci::into(locked);
  } else {
    sql << "SELECT id FROM users WHERE id = :id FOR UPDATE", soci::use(id), soci::into(locked);
  }
}

}  // namespace portcullis
