#include "app/db/tx.h"

namespace portcullis {

Tx::Tx(Db& db, TxKind kind) : db_(db) {
  db_.begin(kind);
  open_ = true;
}

void Tx::commit() {
  open_ = false;
  try {
    db_.commit();
  } catch (...) {
    db_.rollback();
    throw;
  }
}

Tx::~Tx() {
  if (open_) {
    db_.rollback();
  }
}

namespace {
constexpr Statement kLockTenant{"tenants.lock_writers",
                                "SELECT id FROM tenants WHERE id = $1 FOR UPDATE"};
constexpr Statement kLockUser{"users.lock_writers",
                              "SELECT id FROM users WHERE id = $1 FOR UPDATE"};
}  // namespace

void serialise_writers(Tx& tx, WriterScope scope, const std::string& id) {
  if (tx.db().backend() != Backend::kPostgresql) {
    return;
  }
  tx.run(scope == WriterScope::kTenant ? kLockTenant : kLockUser, {id});
}

}  // namespace portcullis
