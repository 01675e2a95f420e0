// kestrel tokenize -m MODEL (-f FILE | -p TEXT): the token ids of the text, space-separated on one
// line, with the model's BOS/EOS rules and special-token text treated as plain text (llama.cpp's
// add_special=true, parse_special=false).
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "commands.h"
#include "core/error.h"
#include "io/gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::app {
namespace {

struct TokenizeFlags {
  std::string model;
  std::string file;
  std::string prompt;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  KESTREL_CHECK(in.good(), "tokenize: cannot open '", path, "'");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  KESTREL_CHECK(!in.bad(), "tokenize: cannot read '", path, "'");
  return text;
}

void run_tokenize(const TokenizeFlags& flags, const CLI::App& cmd) {
  const bool has_file = cmd.count("-f") > 0;
  const bool has_prompt = cmd.count("-p") > 0;
  KESTREL_CHECK(has_file != has_prompt, "tokenize: give exactly one of -f FILE or -p TEXT");
  const std::string text = has_file ? read_file(flags.file) : flags.prompt;
  const auto gguf = io::GgufFile::open(flags.model);
  const auto tok = tokenizer::Tokenizer::from_gguf(*gguf);
  const auto ids = tok->encode(text, /*add_special=*/true, /*parse_special=*/false);
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) line += ' ';
    line += std::to_string(ids[i]);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto flags = std::make_shared<TokenizeFlags>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text, space-separated");
  cmd->add_option("-m,--model", flags->model, "GGUF model file")->required();
  cmd->add_option("-f,--file", flags->file, "Read the text from this file (bytes as they are)");
  cmd->add_option("-p,--prompt", flags->prompt, "The text to tokenize");
  cmd->callback([flags, cmd] { run_tokenize(*flags, *cmd); });
}

KESTREL_COMMAND("tokenize", add_tokenize_command);

}  // namespace kestrel::app
