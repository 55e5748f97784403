#include "app/store/contexts.h"

#include "app/crypto/random.h"

namespace portcullis::store::contexts {
namespace {

constexpr TenantStatement kExists{"contexts.exists",
                                  "SELECT 1 FROM contexts WHERE tenant_id = $1 AND id = $2"};

}  // namespace

bool exists(TenantTx& tx, const std::string& id) {
  return is_uuid(id) && !tx.run(kExists, {id}).empty();
}

}  // namespace portcullis::store::contexts
