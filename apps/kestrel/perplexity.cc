// kestrel perplexity -m MODEL -f TEXT [-c 512] [--kl-base BASE] [-o json]: chunked perplexity as
// llama.cpp's perplexity tool computes it, and KL-divergence / top-1 agreement against a base.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "eval/perplexity.h"

namespace kestrel::app {
namespace {

struct PerplexityFlags {
  std::string model, text, base, output = "text";
  int32_t n_ctx = 512;
  int32_t chunks = 0;
  int32_t batch = 0;
  int threads = 0;
  bool verbose = false;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  KESTREL_CHECK(in.good(), path, ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// JSON string literal for a file path.
std::string quoted(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
      continue;
    }
    o += c;
  }
  return o + "\"";
}

void print_json(const PerplexityFlags& f, const eval::PerplexityResult& r) {
  std::printf("{\"model\": %s, \"text\": %s, \"n_ctx\": %d, \"n_text_tokens\": %lld, "
              "\"n_chunks\": %d, \"n_scored\": %lld, \"ppl\": %.6f, \"nll\": %.8f, "
              "\"nll_stderr\": %.8f, \"seconds\": %.3f",
              quoted(f.model).c_str(), quoted(f.text).c_str(), r.n_ctx,
              static_cast<long long>(r.n_text_tokens), r.n_chunks,
              static_cast<long long>(r.n_scored), r.ppl, r.nll, r.nll_stderr, r.seconds);
  if (r.has_base) {
    std::printf(", \"base\": %s, \"base_ppl\": %.6f, \"delta_ppl\": %.6f, \"delta_ppl_pct\": %.4f, "
                "\"kl_mean\": %.8f, \"kl_stderr\": %.8f, \"kl_p99\": %.8f, \"kl_max\": %.8f, "
                "\"top1\": %.6f",
                quoted(f.base).c_str(), r.base_ppl, r.ppl - r.base_ppl,
                100.0 * (r.ppl / r.base_ppl - 1.0), r.kl_mean, r.kl_stderr, r.kl_p99, r.kl_max,
                r.top1);
  }
  std::printf("}\n");
}

void print_text(const eval::PerplexityResult& r) {
  std::printf("perplexity: %.4f +/- %.4f (%d chunks of %d tokens, %lld tokens scored, %.1f s)\n",
              r.ppl, r.ppl * r.nll_stderr, r.n_chunks, r.n_ctx,
              static_cast<long long>(r.n_scored), r.seconds);
  if (r.has_base) {
    std::printf("base perplexity: %.4f, delta: %+.4f (%+.2f%%)\n", r.base_ppl, r.ppl - r.base_ppl,
                100.0 * (r.ppl / r.base_ppl - 1.0));
    std::printf("KL-divergence: mean %.6f +/- %.6f, p99 %.6f, max %.6f; top-1 agreement %.2f%%\n",
                r.kl_mean, r.kl_stderr, r.kl_p99, r.kl_max, 100.0 * r.top1);
  }
}

void perplexity_command(const PerplexityFlags& f) {
  KESTREL_CHECK(f.output == "text" || f.output == "json", "perplexity: -o must be text or json");
  if (f.verbose) set_log_level(LogLevel::kInfo);
  model::ModelOptions mo;
  mo.n_threads = f.threads;
  const std::string text = read_text(f.text);
  std::unique_ptr<model::Model> model = model::Model::load(f.model, mo);
  std::unique_ptr<model::Model> base;
  if (!f.base.empty()) base = model::Model::load(f.base, mo);
  const std::vector<int32_t> tokens = eval::perplexity_tokens(*model, text);
  eval::PerplexityOptions o;
  o.n_ctx = f.n_ctx;
  o.max_chunks = f.chunks;
  o.n_batch = f.batch;
  const int32_t total = static_cast<int32_t>(
      f.chunks > 0 ? std::min<int64_t>(f.chunks, tokens.size() / f.n_ctx) : tokens.size() / f.n_ctx);
  ProgressBar bar("perplexity", total);
  const eval::PerplexityResult r = eval::compute_perplexity(
      *model, base.get(), tokens, o, [&](int32_t done, int32_t, const eval::PerplexityResult& s) {
        char note[64];
        std::snprintf(note, sizeof note, "ppl %.4f", s.ppl);
        bar.update(done, note);
      });
  bar.finish();
  if (f.output == "json") {
    print_json(f, r);
  } else {
    print_text(r);
  }
}

void add_perplexity_command(CLI::App& app) {
  auto f = std::make_shared<PerplexityFlags>();
  CLI::App* cmd = app.add_subcommand(
      "perplexity", "chunked perplexity of a text (as llama.cpp computes it), KL against a base");
  cmd->add_option("-m,--model", f->model, "GGUF model file")->required();
  cmd->add_option("-f,--file", f->text, "text file to score")->required();
  cmd->add_option("-c,--ctx-size", f->n_ctx, "tokens per chunk; the second half is scored")
      ->check(CLI::Range(16, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--chunks", f->chunks, "score at most this many chunks (0: all)")
      ->check(CLI::Range(0, 1 << 30));
  cmd->add_option("-b,--batch-size", f->batch, "tokens per forward call (0: the model's maximum)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--kl-base", f->base,
                  "base model: add KL-divergence, top-1 agreement and delta perplexity against it");
  cmd->add_option("-o,--output", f->output, "text or json")->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "CPU threads (0: all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("-v,--verbose", f->verbose, "log model and kernel details to stderr");
  cmd->callback([f] { perplexity_command(*f); });
}

}  // namespace

KESTREL_COMMAND("perplexity", add_perplexity_command);

}  // namespace kestrel::app
