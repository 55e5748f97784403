// TenantTx: a request's unit of work on tenant data. It owns a Tx (rolled
// back unless commit() is called; a write transaction by default, see
// app/db/tx.h) and, on PostgreSQL, sets portcullis.tenant_id for that
// transaction only (set_config(…, true), i.e. SET LOCAL), which the
// row-level security policies read; the binding travels in the round trip of
// the statement it scopes. The store's tenant functions take a TenantTx&, and
// its tenant statements get $1 from it, so a tenant query cannot be written
// without a tenant; the tenant id always comes from the Principal.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "app/db/connection.h"
#include "app/db/tx.h"

namespace portcullis {

class [[nodiscard]] TenantTx {
 public:
  // Throws std::invalid_argument for an empty tenant id: no tenant, no
  // tenant transaction.
  TenantTx(Db& db, const std::string& tenant_id, TxKind kind = TxKind::kWrite)
      : tx_(db, kind), tenant_id_(tenant_id) {
    if (tenant_id_.empty()) {
      throw std::invalid_argument("a tenant transaction needs a tenant");
    }
    db.bind_tenant(tenant_id_);
  }
  TenantTx(const TenantTx&) = delete;
  TenantTx& operator=(const TenantTx&) = delete;
  TenantTx(TenantTx&&) = delete;
  TenantTx& operator=(TenantTx&&) = delete;
  ~TenantTx() = default;

  // Runs a tenant statement: $1 is this transaction's tenant, `params` are
  // $2, $3, ….
  Rows run(const TenantStatement& statement, std::vector<Param> params = {}) {
    params.insert(params.begin(), Param(tenant_id_));
    return tx_.run(statement.statement(), params);
  }
  // A statement that is not on one tenant's rows (e.g. a lock on the tenant
  // row, an audit insert through a SECURITY DEFINER function), in this
  // transaction.
  Tx& tx() { return tx_; }
  soci::session& sql() { return tx_.sql(); }
  const std::string& tenant_id() const { return tenant_id_; }
  void commit() { tx_.commit(); }

 private:
  Tx tx_;
  std::string tenant_id_;
};

}  // namespace portcullis
