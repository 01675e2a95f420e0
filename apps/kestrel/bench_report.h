// Output of kestrel bench: a Markdown table (rows printed as the tests finish) or one JSON array
// at the end, with llama-bench's field names where they mean the same thing.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "bench_harness.h"

namespace kestrel::app {

struct ModelFacts {
  std::string path;
  std::string arch;
  std::string main_type;  // the tensor type holding most parameters
  uint64_t size_bytes = 0;
  int64_t n_params = 0;
};

struct BenchResult {
  ModelFacts model;
  int32_t n_threads = 0;
  int32_t n_batch = 0;
  int32_t n_prompt = 0;  // exactly one of n_prompt and n_gen is non-zero
  int32_t n_gen = 0;
  int32_t depth = 0;
  int32_t n_parallel = 1;  // sequences decoding together (tg only)
  std::vector<double> samples_s;
  BenchStats stats;

  // "pp512" or "tg128", as llama-bench names its tests; "tg128 x32" for 32 parallel sequences.
  std::string test_name() const;
};

class BenchReport {
 public:
  virtual ~BenchReport() = default;
  virtual void add(const BenchResult& result) = 0;
  virtual void finish() = 0;
};

// format: "md" or "json"; throws kestrel::Error for anything else.
std::unique_ptr<BenchReport> make_report(const std::string& format, std::ostream& out);

}  // namespace kestrel::app
