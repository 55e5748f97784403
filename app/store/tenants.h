// The tenants store: the tenant rows themselves. tenants has no tenant_id
// column and no row-level security; a tenant's own row is written in its
// TenantTx, whose tenant is $1 (its id).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/db/connection.h"
#include "app/db/tenant_tx.h"

namespace portcullis::store::tenants {

struct Tenant {
  std::string id;
  std::string name;
  bool require_mfa = false;
  bool require_verified_email = false;
  int64_t created_at = 0;
};

// The tenant with this id (autocommit).
std::optional<Tenant> find(Db& db, const std::string& id);
// Creates the transaction's tenant (registration: the TenantTx of a new id).
void insert(TenantTx& tx, const std::string& name, int64_t now);
void set_name(TenantTx& tx, const std::string& name, int64_t now);
// Members without MFA get enrolment-only sessions from their next request
// (app/auth/authenticate.cpp decides).
void set_require_mfa(TenantTx& tx, bool require_mfa, int64_t now);
// Members with an unproven address reach only me, verification and logout
// (app/auth/authenticate.cpp decides, per request).
void set_require_verified_email(TenantTx& tx, bool require, int64_t now);

}  // namespace portcullis::store::tenants
