// kestrel prune IN OUT: zero weights (magnitude, wanda, 2:4) or remove FFN channels, attention
// heads or layers, writing a dense F16/F32 GGUF (src/prune/prune.h).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "core/error.h"
#include "prune/prune.h"
#include "tensor/dtype.h"

namespace kestrel::app {
namespace {

struct PruneFlags {
  std::string in;
  std::string out;
  std::string method;
  std::string type = "f16";
  prune::PruneOptions opts;
};

void run_prune(PruneFlags& f) {
  f.opts.method = prune::parse_method(f.method);
  KESTREL_CHECK(f.type == "f16" || f.type == "f32", "prune: --type must be f16 or f32, not '",
                f.type, "'");
  f.opts.out_type = f.type == "f16" ? tensor::DType::F16 : tensor::DType::F32;
  KESTREL_CHECK(f.in != f.out, "prune: the output must be another file than the input");
  prune::prune_file(f.in, f.out, f.opts,
                    [](const std::string& line) { std::fprintf(stderr, "prune: %s\n", line.c_str()); });
}

void add_prune_command(CLI::App& app) {
  auto f = std::make_shared<PruneFlags>();
  CLI::App* cmd = app.add_subcommand("prune", "Prune a model (unstructured, 2:4 or structured)");
  cmd->add_option("IN", f->in, "Input GGUF model (any type Kestrel reads)")->required();
  cmd->add_option("OUT", f->out, "Output GGUF (dense F16 or F32)")->required();
  cmd->add_option("--method", f->method,
                  "magnitude | wanda | 2:4 (zero weights); ffn | heads | layers (remove units)")
      ->required();
  cmd->add_option("--sparsity", f->opts.sparsity,
                  "Fraction 0..1 of weights (or of channels, heads per KV group, layers) to remove");
  cmd->add_option("--remove", f->opts.remove,
                  "Structured: number of FFN channels per layer, query heads per layer or layers");
  cmd->add_option("--calib", f->opts.calib_path, "Calibration text file (importance statistics)");
  cmd->add_option("--calib-tokens", f->opts.calib_tokens, "Calibration tokens used (default 512)");
  cmd->add_option("--type", f->type, "Output matrix type: f16 (default) or f32");
  cmd->add_option("-t,--threads", f->opts.threads, "Threads (default: all)");
  cmd->callback([f] { run_prune(*f); });
}

}  // namespace

KESTREL_COMMAND("prune", add_prune_command);

}  // namespace kestrel::app
