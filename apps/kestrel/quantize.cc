// kestrel quantize IN OUT TYPE: rewrite a model's weight matrices in another type or a llama.cpp
// recipe (q4_k_m, ...), optionally weighting the quantization error by activation statistics
// collected over a calibration text (--calib).
#include <cstdio>

#include "commands.h"
#include "compress/calibrate.h"
#include "compress/quantize_model.h"
#include "core/error.h"
#include "core/log.h"

namespace kestrel::app {
namespace {

struct QuantizeFlags {
  std::string in, out, type;
  bool allow_requantize = false;
  bool allow_fallback = false;
  int threads = 0;
  std::string calib_file;
  int32_t calib_ctx = 512;
  int64_t calib_tokens = 0;
  bool quiet = false;
};

void quantize_command(const QuantizeFlags& f) {
  compress::QuantizeOptions o;
  o.recipe = compress::parse_recipe(f.type);
  o.allow_requantize = f.allow_requantize;
  o.allow_fallback = f.allow_fallback;
  o.n_threads = f.threads;
  o.progress = !f.quiet;
  compress::ImportanceMatrix importance;
  if (!f.calib_file.empty()) {
    compress::CalibrationOptions c;
    c.n_ctx = f.calib_ctx;
    c.max_tokens = f.calib_tokens;
    c.n_threads = f.threads;
    c.progress = !f.quiet;
    importance = compress::collect_importance(f.in, f.calib_file, c);
    o.importance = &importance;
  }
  const compress::QuantizeSummary s = compress::quantize_model(f.in, f.out, o);
  std::string types;
  for (const auto& [name, count] : s.type_counts) {
    types += (types.empty() ? "" : ", ") + name + " " + std::to_string(count);
  }
  std::fprintf(stderr,
               "kestrel: %s -> %s (%s): %lld tensors (%s), %lld converted%s, %.2f MiB -> %.2f MiB\n",
               f.in.c_str(), f.out.c_str(), o.recipe.name.c_str(),
               static_cast<long long>(s.n_tensors), types.c_str(),
               static_cast<long long>(s.n_converted),
               s.n_weighted > 0 ? (" (" + std::to_string(s.n_weighted) + " importance-weighted)").c_str()
                                : "",
               s.bytes_in / 1048576.0, s.bytes_out / 1048576.0);
}

void add_quantize_command(CLI::App& app) {
  auto f = std::make_shared<QuantizeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "quantize", "rewrite a model's weight matrices in another type or recipe");
  cmd->add_option("IN", f->in, "input GGUF model (F32/F16/BF16 weights)")->required();
  cmd->add_option("OUT", f->out, "output GGUF file (written to OUT.tmp, then renamed)")->required();
  cmd->add_option("TYPE", f->type, "type or recipe: " + compress::recipe_names())->required();
  cmd->add_flag("--allow-requantize", f->allow_requantize,
                "accept an input whose matrices are already quantized");
  cmd->add_flag("--allow-fallback", f->allow_fallback,
                "plain types: use GGUF's fallback type for rows the type cannot hold");
  cmd->add_option("-t,--threads", f->threads, "threads (0: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--calib", f->calib_file,
                  "calibration text: weight the quantization error by per-channel activations");
  cmd->add_option("--calib-ctx", f->calib_ctx, "calibration chunk length in tokens")
      ->check(CLI::Range(16, 1 << 16))
      ->capture_default_str();
  cmd->add_option("--calib-tokens", f->calib_tokens, "use at most this many tokens (0: all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_flag("-q,--quiet", f->quiet, "no progress bar");
  cmd->callback([f] { quantize_command(*f); });
}

}  // namespace

KESTREL_COMMAND("quantize", add_quantize_command);

}  // namespace kestrel::app
