// kestrel bench: prefill (pp) and decode (tg) tokens/s of the forward pass, with llama-bench's
// flags and test names so that the two tools' outputs line up (bench/side_by_side.py runs both).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_harness.h"
#include "bench_report.h"
#include "commands.h"
#include "core/error.h"
#include "core/log.h"
#include "io/gguf/gguf_file.h"
#include "model/model.h"

namespace kestrel::app {
namespace {

struct BenchFlags {
  std::vector<std::string> models;
  std::vector<int32_t> n_prompt{512};
  std::vector<int32_t> n_gen{128};
  std::vector<int32_t> threads;
  std::vector<int32_t> depths{0};
  std::vector<int32_t> parallel{1};
  int32_t repetitions = 5;
  int32_t batch = 512;
  std::string output = "md";
  bool no_warmup = false;
  bool progress = false;
  bool verbose = false;
  uint32_t seed = 1234;
};

// What the report says about the file: total tensor bytes, parameters and the weight type that
// holds most parameters (a Q4_K_M file is mostly q4_k).
ModelFacts model_facts(const std::string& path, const model::Model& model) {
  ModelFacts f;
  f.path = path;
  f.arch = model.hparams().arch;
  std::map<std::string, int64_t> elements_by_type;
  for (const io::GgufTensorInfo& t : model.gguf().tensors()) {
    f.size_bytes += t.nbytes;
    f.n_params += t.n_elements();
    elements_by_type[tensor::dtype_name(t.type)] += t.n_elements();
  }
  int64_t best = -1;
  for (const auto& [name, n] : elements_by_type) {
    if (n > best) best = n, f.main_type = name;
  }
  return f;
}

void check_flags(const BenchFlags& f) {
  for (int32_t n : f.n_prompt) KESTREL_CHECK(n >= 0, "bench: -p must be >= 0, got ", n);
  for (int32_t n : f.n_gen) KESTREL_CHECK(n >= 0, "bench: -n must be >= 0, got ", n);
  for (int32_t d : f.depths) KESTREL_CHECK(d >= 0, "bench: -d must be >= 0, got ", d);
  for (int32_t t : f.threads) KESTREL_CHECK(t >= 1, "bench: -t must be >= 1, got ", t);
  for (int32_t s : f.parallel) {
    KESTREL_CHECK(s >= 1 && s <= 1024, "bench: --parallel must be in 1..1024, got ", s);
  }
  bool any = false;
  for (int32_t n : f.n_prompt) any = any || n > 0;
  for (int32_t n : f.n_gen) any = any || n > 0;
  KESTREL_CHECK(any, "bench: nothing to run (every -p and -n is 0)");
}

void bench_command(BenchFlags f) {
  check_flags(f);
  if (f.verbose) set_log_level(LogLevel::kInfo);
  if (f.threads.empty()) {
    f.threads.push_back(static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency())));
  }
  struct Test {
    BenchKind kind;
    int32_t n;
    int32_t n_seqs;
  };
  std::vector<Test> tests;
  for (int32_t n : f.n_prompt) if (n > 0) tests.push_back({BenchKind::kPrompt, n, 1});
  for (int32_t n : f.n_gen) {
    for (int32_t s : f.parallel) if (n > 0) tests.push_back({BenchKind::kGenerate, n, s});
  }
  int32_t max_depth = 0, max_ctx = 0, max_seqs = 1;
  for (int32_t d : f.depths) max_depth = std::max(max_depth, d);
  for (const Test& t : tests) {
    max_ctx = std::max(max_ctx, (max_depth + t.n) * t.n_seqs);
    max_seqs = std::max(max_seqs, t.n_seqs);
  }

  std::unique_ptr<BenchReport> report = make_report(f.output, std::cout);
  for (const std::string& path : f.models) {
    for (int32_t n_threads : f.threads) {
      model::ModelOptions options;
      options.n_threads = n_threads;
      options.max_batch = f.batch;
      std::unique_ptr<model::Model> model = model::Model::load(path, options);
      const ModelFacts facts = model_facts(path, *model);
      BenchSession session(*model, max_ctx, max_seqs, f.seed);
      for (int32_t depth : f.depths) {
        for (const Test& t : tests) {
          session.set_depth(depth, t.n_seqs);
          if (!f.no_warmup) {
            // As llama-bench: a whole prompt, or one decode step.
            session.run(t.kind, t.kind == BenchKind::kPrompt ? t.n : 1);
          }
          std::vector<double> seconds;
          for (int32_t r = 0; r < f.repetitions; ++r) {
            seconds.push_back(session.run(t.kind, t.n));
            if (f.progress) {
              std::fprintf(stderr, "kestrel bench: %s t=%d %s%d x%d d=%d rep %d/%d: %.3f s\n",
                           path.c_str(), n_threads, t.kind == BenchKind::kPrompt ? "pp" : "tg",
                           t.n, t.n_seqs, depth, r + 1, f.repetitions, seconds.back());
            }
          }
          BenchResult res;
          res.model = facts;
          res.n_threads = n_threads;
          res.n_batch = f.batch;
          res.n_prompt = t.kind == BenchKind::kPrompt ? t.n : 0;
          res.n_gen = t.kind == BenchKind::kGenerate ? t.n : 0;
          res.depth = depth;
          res.n_parallel = t.n_seqs;
          res.samples_s = seconds;
          res.stats = summarize(seconds, t.n * t.n_seqs);
          report->add(res);
        }
      }
    }
  }
  report->finish();
}

void add_bench_command(CLI::App& app) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "prefill and decode tokens/s of the forward pass (llama-bench's tests and flags)");
  cmd->add_option("-m,--model", flags->models, "GGUF model file (repeatable)")->required();
  cmd->add_option("-p,--n-prompt", flags->n_prompt, "prompt lengths (comma list; 0: no pp test)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-n,--n-gen", flags->n_gen, "tokens to generate (comma list; 0: no tg test)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-t,--threads", flags->threads, "thread counts (comma list; default: all cores)")
      ->delimiter(',');
  cmd->add_option("-d,--n-depth", flags->depths, "tokens already in the KV cache (comma list)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--parallel", flags->parallel,
                  "sequences decoding together in the tg tests (comma list; llama-batched-bench's "
                  "-npl): tokens/s counts every sequence's tokens")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-r,--repetitions", flags->repetitions, "timed runs per test")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("-b,--batch-size", flags->batch, "most tokens per forward call (prompt chunks)")
      ->check(CLI::Range(1, 1 << 16))
      ->capture_default_str();
  cmd->add_option("-o,--output", flags->output, "output format: md (table) or json (array)")
      ->check(CLI::IsMember({"md", "json"}))
      ->capture_default_str();
  cmd->add_option("--seed", flags->seed, "seed of the random token ids")->capture_default_str();
  cmd->add_flag("--no-warmup", flags->no_warmup, "skip the untimed warm-up run of each test");
  cmd->add_flag("--progress", flags->progress, "print each repetition's time to stderr");
  cmd->add_flag("-v,--verbose", flags->verbose, "log model and kernel details to stderr");
  cmd->callback([flags] { bench_command(*flags); });
}

}  // namespace

KESTREL_COMMAND("bench", add_bench_command);

}  // namespace kestrel::app
