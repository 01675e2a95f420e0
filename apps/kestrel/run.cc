// kestrel run: complete a raw prompt. stdout carries only the generated text, streamed; the
// timings go to stderr.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "common_flags.h"
#include "core/error.h"
#include "engine/text_stream.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::app {
namespace {

struct RunFlags {
  ModelFlags model;
  GenerationFlags gen;
  std::string prompt;
  std::string prompt_file;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  KESTREL_CHECK(in.good(), path, ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void run_command(const RunFlags& f) {
  KESTREL_CHECK(f.prompt.empty() != f.prompt_file.empty(), "run: give exactly one of -p and -f");
  f.gen.sampling.validate();
  const std::string prompt = f.prompt_file.empty() ? f.prompt : read_file(f.prompt_file);
  std::unique_ptr<model::Model> model = load_model(f.model);
  const tokenizer::Tokenizer& tok = model->tokenizer();

  engine::GenerationRequest request;
  request.prompt = tok.encode(prompt, /*add_special=*/true, /*parse_special=*/true);
  request.sampling = f.gen.sampling;
  request.max_tokens = f.gen.max_tokens;
  request.ignore_eos = f.gen.ignore_eos;

  engine::Engine engine(*model, engine_options(f.model, *model));
  engine::TextStream text(tok, f.gen.stops);
  engine.add(std::move(request), [&](engine::SeqId seq, int32_t token, engine::FinishReason) {
    if (token < 0 || tok.is_eog(token)) return;
    const std::string piece = text.push(token);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    if (text.stopped()) engine.cancel(seq);
  });
  engine.run_until_idle();
  const std::string tail = text.finish();
  std::fwrite(tail.data(), 1, tail.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  std::fprintf(stderr, "kestrel: %s\n", format_timings(engine.stats()).c_str());
}

void add_run_command(CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand("run", "complete a raw prompt (text on stdout, timings on stderr)");
  add_model_flags(cmd, flags->model);
  add_generation_flags(cmd, flags->gen, 128);
  cmd->add_option("-p,--prompt", flags->prompt, "prompt text");
  cmd->add_option("-f,--file", flags->prompt_file, "read the prompt from a file");
  cmd->callback([flags] { run_command(*flags); });
}

}  // namespace

KESTREL_COMMAND("run", add_run_command);

}  // namespace kestrel::app
