// search_seed: the bulk seed of tests/bench/search.sh. Writes N memories into
// one tenant through the store's own functions (app/store/memories.h), in
// transactions of 5 000, exactly as a create does it: content encrypted with
// the primary data key (AAD bound to table, column, tenant and row), the
// folded tag row, and the blind-index rows of title and content under the
// tenant's search key. Only HTTP is skipped: 100 000 creates through nginx
// take many minutes on a small machine, and the benchmark measures search.
//
//   search_seed ENV_FILE TENANT_ID COUNT WORDS VOCAB_FILE [RANDOM_SEED]
//
// Titles have 3 words and contents WORDS words, drawn from VOCAB_FILE (one
// word a line) with a Zipf-like law (word i with probability about 1/i), the
// same law as tests/bench/search_seed.lua. Prints the count written.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "app/config/config.h"
#include "app/crypto/aead.h"
#include "app/crypto/blind_index.h"
#include "app/crypto/random.h"
#include "app/crypto/worker_keys.h"
#include "app/db/connection.h"
#include "app/db/statement.h"
#include "app/db/tenant_tx.h"
#include "app/db/time.h"
#include "app/store/memories.h"

namespace {

constexpr int kBatch = 5000;

}  // namespace

int main(int argc, char** argv) {
  using namespace portcullis;  // NOLINT: a small tool
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr,
                 "usage: search_seed ENV_FILE TENANT_ID COUNT WORDS VOCAB_FILE [RANDOM_SEED]\n");
    return 64;
  }
  const std::string tenant = argv[2];
  const long count = std::strtol(argv[3], nullptr, 10);
  const int words = static_cast<int>(std::strtol(argv[4], nullptr, 10));
  std::vector<std::string> vocab;
  {
    std::ifstream in(argv[5]);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) {
        vocab.push_back(line);
      }
    }
  }
  if (count < 1 || words < 1 || vocab.size() < 2) {
    std::fprintf(stderr, "search_seed: bad count, words or vocabulary\n");
    return 64;
  }
  const Config config = load_config(ConfigOptions{argv[1], false});
  const WorkerKeys keys(config.secret_key, config.data_keys, config.data_key_primary);
  const std::string search_key = keys.search_key(tenant);
  Db db(config.database_url, DbOptions{600000, 60000});
  if (backend_of(config.database_url) == Backend::kSqlite) {
    // Transactions of thousands of memories touch many pages of the index B-trees
    // (term hashes are random): a bigger page cache than SQLite's 2 MiB
    // default keeps them from spilling to the WAL and being read back.
    db.session() << "PRAGMA cache_size = -262144";
  }

  std::mt19937_64 rng(argc == 7 ? std::strtoull(argv[6], nullptr, 10) : 42);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double log_v = std::log(static_cast<double>(vocab.size()));
  auto phrase = [&](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      const auto rank = static_cast<size_t>(std::floor(std::exp(uniform(rng) * log_v)));
      out += (i == 0 ? "" : " ") + vocab[std::min(rank, vocab.size()) - 1];
    }
    return out;
  };

  long written = 0;
  while (written < count) {
    TenantTx tx(db, tenant);
    for (int i = 0; i < kBatch && written < count; ++i, ++written) {
      store::memories::Memory m;
      m.id = uuid_v7();
      m.title = phrase(3);
      const std::string content = phrase(words);
      m.content_enc =
          keys.field_cipher().encrypt(content, field_aad("memories", "content_enc", tenant, m.id));
      m.tags_json = R"(["bench"])";
      m.created_at = format_time_ms(now_ms());
      m.updated_at = m.created_at;
      store::memories::insert(tx, m);
      store::memories::add_tags(tx, m.id, {"bench"});
      store::memories::add_terms(tx, m.id, memory_term_hashes(search_key, m.title, content));
    }
    tx.commit();
  }
  std::printf("%ld\n", written);
  return 0;
}
