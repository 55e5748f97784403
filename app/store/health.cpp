#include "app/store/health.h"

namespace portcullis::store::health {
namespace {

constexpr Statement kPing{"health.ping", "SELECT 1"};

}  // namespace

bool ping(Db& db) {
  std::optional<Row> row = db.run(kPing, {}).first();
  return row && row->integer(0) == 1;
}

}  // namespace portcullis::store::health
