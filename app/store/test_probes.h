// Statements of the test-only routes (handlers/test_routes.cpp), built into
// the test build only (-DPORTCULLIS_TEST_ROUTES=ON).
#pragma once

#include <string>

#include "app/db/tx.h"

namespace portcullis::store::test_probes {

// Inserts a sessions row with only an id, `secret` as its token hash and CSRF
// token: it fails the table's NOT NULL constraints (no user, tenant, state or
// times) and throws soci_error, with `secret` bound.
void insert_incomplete_session(Tx& tx, const std::string& id, const std::string& secret);

}  // namespace portcullis::store::test_probes
