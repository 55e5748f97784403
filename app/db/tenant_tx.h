// TenantTx: a request's unit of work on tenant data. It owns a Tx (rolled
// back unless commit() is called; a write transaction by default, see
// app/db/tx.h) and, on PostgreSQL, sets portcullis.tenant_id for that
// transaction only (set_config(…, true), i.e. SET LOCAL), which the
// row-level security policies read. Repositories take a TenantTx&, so a
// tenant query cannot be written without a tenant; the tenant id always
// comes from the Principal.
#pragma once

#include <string>

#include <soci/soci.h>

#include "app/db/connection.h"
#include "app/db/tx.h"

namespace portcullis {

class [[nodiscard]] TenantTx {
 public:
  TenantTx(Db& db, const std::string& tenant_id, TxKind kind = TxKind::kWrite)
      : tx_(db, kind), tenant_id_(tenant_id) {
    if (db.backend() == Backend::kPostgresql) {
      std::string ignored;
      tx_.sql() << "SELECT set_config('portcullis.tenant_id', :t, true)", soci::use(tenant_id_),
          soci::into(ignored);
    }
  }
  TenantTx(const TenantTx&) = delete;
  TenantTx& operator=(const TenantTx&) = delete;
  TenantTx(TenantTx&&) = delete;
  TenantTx& operator=(TenantTx&&) = delete;
  ~TenantTx() = default;

  soci::session& sql() { return tx_.sql(); }
  const std::string& tenant_id() const { return tenant_id_; }
  void commit() { tx_.commit(); }

 private:
  Tx tx_;
  std::string tenant_id_;
};

}  // namespace portcullis
