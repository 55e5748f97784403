#include "app/store/test_probes.h"

namespace portcullis::store::test_probes {
namespace {

constexpr Statement kInsertIncompleteSession{
    "sessions.insert_incomplete",
    "INSERT INTO sessions (id, token_hash, csrf_token) VALUES ($1, $2, $2)"};

}  // namespace

void insert_incomplete_session(Tx& tx, const std::string& id, const std::string& secret) {
  tx.run(kInsertIncompleteSession, {id, secret});
}

}  // namespace portcullis::store::test_probes
