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

}  // namespace portcullis
