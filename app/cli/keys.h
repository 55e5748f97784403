// `portcullis keys …`: the field-encryption keyring (DESIGN §7, CRY-3).
//
//   keys generate [--id ID]            prints ID:base64key (32 random bytes)
//   keys status [--env-file F]         rows per key id for every encrypted column
//   keys reencrypt [--batch N] [--env-file F]
//                                      moves every row to the primary key,
//                                      then rebuilds the search index
//   keys reindex [--batch N] [--env-file F]
//                                      rebuilds the search index (blind index of
//                                      memory_terms, folded memory_tags) under
//                                      the current secret key
//
// status and reencrypt connect as PORTCULLIS_DATABASE_OWNER_URL when it is
// set (else PORTCULLIS_DATABASE_URL) and work tenant by tenant, each tenant's
// statements in a transaction that first sets portcullis.tenant_id on
// PostgreSQL, so they are correct under row-level security whichever role
// they run as.
//
// reencrypt is interruptible and resumable by construction: each batch is
// its own transaction, and a row is rewritten only if it still holds the
// ciphertext that was read (UPDATE … WHERE id = :id AND col = :old), so a
// killed run leaves every row valid under some key of the ring and a rerun
// carries on with what is left. A row that fails to decrypt is reported by
// id, left as it is, and makes the exit code 1.
#pragma once

#include <string>
#include <vector>

namespace portcullis {

// args: everything after "keys". Returns the process exit code: 0, 1 (a
// database error, or rows that could not be decrypted), 64 (usage), 78
// (configuration).
int cmd_keys(const std::vector<std::string>& args);

}  // namespace portcullis
