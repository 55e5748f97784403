#include "app/store/diagnostics.h"

#include <stdexcept>

namespace portcullis::store::diagnostics {
namespace {

constexpr Statement kBound{"diagnostics.bound_tenant",
                           "SELECT current_setting('portcullis.tenant_id', true)", "SELECT ''"};
constexpr TenantStatement kBoundInTx{
    "diagnostics.bound_tenant_in_tx",
    "SELECT current_setting('portcullis.tenant_id', true), CAST($1 AS text)", "SELECT '', $1"};
constexpr TenantStatement kOverflow{"diagnostics.overflow",
                                    "SELECT abs(CAST($2 AS bigint)), CAST($1 AS text)",
                                    "SELECT abs(CAST($2 AS integer)), $1"};

}  // namespace

std::string bound_tenant(Db& db) {
  std::optional<Row> row = db.run(kBound, {}).first();
  return row ? row->text(0) : "";
}

std::string bound_tenant(TenantTx& tx) {
  std::optional<Row> row = tx.run(kBoundInTx).first();
  return row ? row->text(0) : "";
}

void fail_after_binding(TenantTx& tx) {
  (void)bound_tenant(tx);
  tx.run(kOverflow, {std::string("-9223372036854775808")});
  throw std::logic_error("the overflow statement did not fail");
}

}  // namespace portcullis::store::diagnostics
