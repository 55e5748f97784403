// The contexts store: every statement on contexts, in the caller's tenant.
#pragma once

#include <string>

#include "app/db/tenant_tx.h"

namespace portcullis::store::contexts {

// Is `id` a context of the tenant? False for anything that is not a UUID.
[[nodiscard]] bool exists(TenantTx& tx, const std::string& id);

}  // namespace portcullis::store::contexts
