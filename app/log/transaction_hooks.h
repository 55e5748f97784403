// The transaction events of a connection, as the audit trail (app/log/audit.h)
// needs them: its log line waits for the outcome of the transaction that
// wrote its row.
#pragma once

#include <functional>

namespace portcullis {

// What the audit trail needs to know of a connection's transactions. Db
// (app/db/connection.h) implements it; it is declared here so that log stays
// below db in the module order (tests/layering.sh).
class TransactionHooks {
 public:
  TransactionHooks() = default;
  TransactionHooks(const TransactionHooks&) = delete;
  TransactionHooks& operator=(const TransactionHooks&) = delete;
  TransactionHooks(TransactionHooks&&) = delete;
  TransactionHooks& operator=(TransactionHooks&&) = delete;
  virtual ~TransactionHooks() = default;

  // Runs `fn` once the open transaction ends (committed=true after COMMIT,
  // false after ROLLBACK); at once with committed=true outside one.
  virtual void after_transaction(std::function<void(bool committed)> fn) = 0;
};

}  // namespace portcullis
