// bandwidth_probe: STREAM-like DRAM read bandwidth, the ceiling of a decode step (which reads every
// weight once per token). Each thread sums its own contiguous slice of a buffer much larger than
// the last-level cache; the best of several passes counts, as STREAM reports its best time.
//
//   bandwidth_probe [--mib N] [--threads 1,2] [--passes N] [--json] [--fma] [--int8]
//
// Prints one line (or one JSON object) per thread count: GB/s = bytes read / seconds, 1 GB = 1e9 B.
// --fma adds the FP32 fused-multiply-add peak (GFLOP/s, 2 FLOPs per lane) per thread count: the
// compute ceiling of an F32 matrix product, for comparison with the kernels' GFLOP/s.
// --int8 adds the AVX2 int8 multiply-add peak (GOP/s, 2 per multiply-add): independent chains of
// `vpmaddubsw` (32 byte products summed in pairs) + `vpaddw` (accumulate), the pair of
// instructions every quantized AVX2 tile is built from; the ceiling of the quantized kernels'
// GFLOP/s on a CPU without VNNI.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

// Sums 64-bit words with independent accumulators so that the loop is limited by loads, not by
// the add chain. The AVX2 variant issues 32-byte loads; the portable one relies on the compiler.
uint64_t sum_portable(const uint64_t* p, size_t n) {
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    a0 += p[i]; a1 += p[i + 1]; a2 += p[i + 2]; a3 += p[i + 3];
    a4 += p[i + 4]; a5 += p[i + 5]; a6 += p[i + 6]; a7 += p[i + 7];
  }
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) uint64_t sum_avx2(const uint64_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  const auto* v = reinterpret_cast<const __m256i*>(p);
  const size_t nv = n / 4;
  for (size_t i = 0; i + 4 <= nv; i += 4) {
    a0 = _mm256_add_epi64(a0, _mm256_load_si256(v + i));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256(v + i + 1));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256(v + i + 2));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256(v + i + 3));
  }
  a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), a0);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
#endif

// Independent FMA chains, enough to cover the latency of two FMA pipes; returns a value that
// depends on every one so the loop is kept.
constexpr int kFmaChains = 12;
constexpr int kFmaLanes = 8;

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) float fma_avx2(int64_t iters) {
  __m256 acc[kFmaChains];
  for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm256_set1_ps(0.001f * c);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
    for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  }
  __m256 s = acc[0];
  for (int c = 1; c < kFmaChains; ++c) s = _mm256_add_ps(s, acc[c]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  return lanes[0] + lanes[7];
}
#endif

// Independent chains of acc += pairsum(bytes(acc) * w): each multiply reads its chain's
// accumulator, so nothing can be hoisted out of the loop; 12 chains cover the multiply's latency.
constexpr int kInt8Chains = 12;

#if defined(__x86_64__)
__attribute__((target("avx2"))) float int8_avx2(int64_t iters) {
  __m256i acc[kInt8Chains];
  for (int c = 0; c < kInt8Chains; ++c) acc[c] = _mm256_set1_epi8(static_cast<char>(c + 1));
  const __m256i w = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < iters; ++i) {
    for (int c = 0; c < kInt8Chains; ++c) {
      acc[c] = _mm256_add_epi16(acc[c], _mm256_maddubs_epi16(acc[c], w));
    }
  }
  __m256i s = acc[0];
  for (int c = 1; c < kInt8Chains; ++c) s = _mm256_xor_si256(s, acc[c]);
  return static_cast<float>(_mm256_extract_epi32(s, 0));
}
#endif

// Runs fn(kIters) on n_threads threads at once; best wall seconds of `passes`.
template <class Fn>
double best_seconds(Fn fn, int64_t iters, int n_threads, int passes) {
  double best = 1e30;
  volatile float sink = 0;
  for (int pass = 0; pass < passes; ++pass) {
    std::vector<float> out(n_threads);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 1; t < n_threads; ++t) pool.emplace_back([&, t] { out[t] = fn(iters); });
    out[0] = fn(iters);
    for (std::thread& th : pool) th.join();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    for (float f : out) sink = sink + f;
  }
  return best;
}

// GOP/s (2 per byte multiply-add) of the vpmaddubsw + vpaddw pair on n_threads threads; 0 where
// there is no AVX2.
double int8_peak(int n_threads, int passes) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx2")) return 0;
  constexpr int64_t kIters = 20'000'000;
  const double s = best_seconds(int8_avx2, kIters, n_threads, passes);
  return 2.0 * 32 * kInt8Chains * static_cast<double>(kIters) * n_threads / s / 1e9;
#else
  (void)n_threads;
  (void)passes;
  return 0;
#endif
}

// GFLOP/s of n_threads threads each running `iters` rounds of kFmaChains 8-lane FMAs; best of
// `passes`. Returns 0 where there is no AVX2+FMA.
double fma_peak(int n_threads, int passes) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
  constexpr int64_t kIters = 20'000'000;
  const double best = best_seconds(fma_avx2, kIters, n_threads, passes);
  return 2.0 * kFmaLanes * kFmaChains * static_cast<double>(kIters) * n_threads / best / 1e9;
#else
  (void)n_threads;
  (void)passes;
  return 0;
#endif
}

using SumFn = uint64_t (*)(const uint64_t*, size_t);

SumFn pick_sum(const char** name) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) {
    *name = "avx2";
    return sum_avx2;
  }
#endif
  *name = "portable";
  return sum_portable;
}

std::vector<int> parse_list(const char* s) {
  std::vector<int> out;
  std::string str(s);
  size_t pos = 0;
  while (pos <= str.size()) {
    const size_t comma = std::min(str.find(',', pos), str.size());
    out.push_back(std::atoi(str.substr(pos, comma - pos).c_str()));
    pos = comma + 1;
  }
  return out;
}

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr, "bandwidth_probe: %s\nusage: bandwidth_probe [--mib N] [--threads 1,2] "
                       "[--passes N] [--json] [--fma] [--int8]\n", msg);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 1024;
  std::vector<int> threads{1, 2};
  int passes = 10;
  bool json = false;
  bool fma = false;
  bool int8 = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--mib") {
      mib = std::strtoull(value(), nullptr, 10);
    } else if (a == "--threads") {
      threads = parse_list(value());
    } else if (a == "--passes") {
      passes = std::atoi(value());
    } else if (a == "--json") {
      json = true;
    } else if (a == "--fma") {
      fma = true;
    } else if (a == "--int8") {
      int8 = true;
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (mib < 64 || mib > (1 << 20)) usage("--mib must be in [64, 1048576]");
  if (passes < 1) usage("--passes must be >= 1");
  for (int t : threads) {
    if (t < 1 || t > 1024) usage("--threads values must be in [1, 1024]");
  }

  const size_t bytes = mib << 20;
  const size_t words = bytes / sizeof(uint64_t);
  auto* raw = static_cast<uint64_t*>(std::aligned_alloc(4096, bytes));
  if (raw == nullptr) usage("cannot allocate the buffer");
  std::unique_ptr<uint64_t, decltype(&std::free)> buf(raw, &std::free);
  for (size_t i = 0; i < words; ++i) raw[i] = i;  // touch every page before timing

  const char* kernel = nullptr;
  const SumFn sum = pick_sum(&kernel);
  volatile uint64_t sink = 0;
  for (int n_threads : threads) {
    double best = 1e30;
    for (int pass = 0; pass < passes; ++pass) {
      std::vector<uint64_t> partial(n_threads);
      // Slices are multiples of 4 KiB so every thread's loads stay aligned.
      const size_t slice = words / n_threads / 512 * 512;
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<std::thread> pool;
      for (int t = 1; t < n_threads; ++t) {
        pool.emplace_back([&, t] { partial[t] = sum(raw + t * slice, slice); });
      }
      partial[0] = sum(raw, slice);
      for (std::thread& th : pool) th.join();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, s);
      for (uint64_t p : partial) sink = sink + p;
    }
    const size_t slice_bytes = words / n_threads / 512 * 512 * sizeof(uint64_t);
    const double gbs = static_cast<double>(slice_bytes) * n_threads / best / 1e9;
    const double gflops = fma ? fma_peak(n_threads, std::min(passes, 3)) : 0;
    const double gops = int8 ? int8_peak(n_threads, std::min(passes, 3)) : 0;
    if (json) {
      std::printf("{\"threads\": %d, \"read_gbs\": %.3f, \"buffer_mib\": %zu, \"passes\": %d, "
                  "\"kernel\": \"%s\"", n_threads, gbs, mib, passes, kernel);
      if (fma) std::printf(", \"fma_gflops\": %.1f", gflops);
      if (int8) std::printf(", \"int8_gops\": %.1f", gops);
      std::printf("}\n");
    } else {
      std::printf("read bandwidth, %d thread%s: %.2f GB/s (best of %d passes over %zu MiB, %s)\n",
                  n_threads, n_threads == 1 ? "" : "s", gbs, passes, mib, kernel);
      if (fma) {
        std::printf("FP32 FMA peak, %d thread%s: %.1f GFLOP/s\n", n_threads,
                    n_threads == 1 ? "" : "s", gflops);
      }
      if (int8) {
        std::printf("int8 multiply-add peak (vpmaddubsw + vpaddw), %d thread%s: %.1f GOP/s\n",
                    n_threads, n_threads == 1 ? "" : "s", gops);
      }
    }
    std::fflush(stdout);
  }
  return 0;
}
