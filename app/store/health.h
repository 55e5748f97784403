// The health store: whether the worker's connection answers.
#pragma once

#include "app/db/connection.h"

namespace portcullis::store::health {

// SELECT 1 on the worker's connection (autocommit). True when it answers 1;
// throws soci_error (or std::exception) when the database cannot be reached.
[[nodiscard]] bool ping(Db& db);

}  // namespace portcullis::store::health
