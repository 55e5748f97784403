// aead_bench: AES-256-GCM field encryption as the product does it (FieldCipher, Crypto++
// GCM<AES>, the blob format and AAD of app/crypto/aead.h), on 1 KiB of plaintext: issue #4's
// "encrypt + decrypt of 1 KiB" figure (tests/bench/pg.sh runs it).
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "app/config/config.h"
#include "app/crypto/aead.h"

namespace {

portcullis::FieldCipher make_cipher() {
  std::vector<portcullis::DataKey> keys{portcullis::DataKey{"k1", std::string(32, '\x42')}};
  return portcullis::FieldCipher(keys, "k1");
}

const std::string& aad() {
  static const std::string a =
      portcullis::field_aad("memories", "content_enc", "0192a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6b",
                            "0192a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6c");
  return a;
}

// One encrypt and one decrypt (with the tag check) of 1 KiB: the figure issue #4 asked for.
void BM_Aes256GcmSealOpen1KiB(benchmark::State& state) {
  portcullis::FieldCipher cipher = make_cipher();
  std::string plain(1024, 'm');
  for (auto _ : state) {
    std::string blob = cipher.encrypt(plain, aad());
    auto back = cipher.decrypt(blob, aad());
    benchmark::DoNotOptimize(back);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 1024);
}
BENCHMARK(BM_Aes256GcmSealOpen1KiB);

void BM_Aes256GcmSeal1KiB(benchmark::State& state) {
  portcullis::FieldCipher cipher = make_cipher();
  std::string plain(1024, 'm');
  for (auto _ : state) {
    benchmark::DoNotOptimize(cipher.encrypt(plain, aad()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 1024);
}
BENCHMARK(BM_Aes256GcmSeal1KiB);

// The list page's per-row cost: decrypt only (a page of 20 makes 20 of these).
void BM_Aes256GcmOpen1KiB(benchmark::State& state) {
  portcullis::FieldCipher cipher = make_cipher();
  std::string blob = cipher.encrypt(std::string(1024, 'm'), aad());
  for (auto _ : state) {
    benchmark::DoNotOptimize(cipher.decrypt(blob, aad()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 1024);
}
BENCHMARK(BM_Aes256GcmOpen1KiB);

}  // namespace

BENCHMARK_MAIN();
