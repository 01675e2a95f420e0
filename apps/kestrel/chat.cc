// kestrel chat: multi-turn chat through the model's chat template. Each line on stdin is a user
// turn (an empty line or end of input ends the chat); -p runs a single turn.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "common_flags.h"
#include "core/error.h"
#include "engine/text_stream.h"
#include "io/gguf/gguf_file.h"
#include "tokenizer/builtin_templates.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::app {
namespace {

struct ChatFlags {
  ModelFlags model;
  GenerationFlags gen;
  std::string prompt;
  std::string system;
};

tokenizer::ChatTemplate load_template(const model::Model& m) {
  std::string source = m.gguf().get_string_or("tokenizer.chat_template", "");
  if (source.empty()) {
    auto builtin = tokenizer::builtin_chat_template(m.hparams().arch);
    KESTREL_CHECK(builtin.has_value(), "chat: the model has no tokenizer.chat_template and there is "
                  "no built-in template for architecture '", m.hparams().arch, "'");
    source = *builtin;
  }
  return tokenizer::ChatTemplate(source);
}

// Generates one assistant turn for the conversation; streams it to stdout and returns its text.
std::string reply(model::Model& m, const tokenizer::ChatTemplate& tmpl,
                  const std::vector<tokenizer::ChatMessage>& messages, const ChatFlags& f) {
  const tokenizer::Tokenizer& tok = m.tokenizer();
  const std::string bos = tok.bos() >= 0 ? tok.token_text(tok.bos()) : "";
  const std::string eos = tok.eos() >= 0 ? tok.token_text(tok.eos()) : "";
  const std::string text = tmpl.apply(messages, /*add_generation_prompt=*/true, bos, eos);
  engine::GenerationRequest request;
  // The template writes BOS itself where the model wants one.
  request.prompt = tok.encode(text, /*add_special=*/false, /*parse_special=*/true);
  request.sampling = f.gen.sampling;
  request.max_tokens = f.gen.max_tokens;
  request.ignore_eos = f.gen.ignore_eos;

  engine::Engine engine(m, engine_options(f.model, m));
  engine::TextStream stream(tok, f.gen.stops);
  std::string answer;
  engine.add(std::move(request), [&](engine::SeqId seq, int32_t token, engine::FinishReason) {
    if (token < 0 || tok.is_eog(token)) return;
    const std::string piece = stream.push(token);
    answer += piece;
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    if (stream.stopped()) engine.cancel(seq);
  });
  engine.run_until_idle();
  const std::string tail = stream.finish();
  answer += tail;
  std::fwrite(tail.data(), 1, tail.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  if (f.model.verbose) std::fprintf(stderr, "kestrel: %s\n", format_timings(engine.stats()).c_str());
  return answer;
}

void chat_command(const ChatFlags& f) {
  f.gen.sampling.validate();
  std::unique_ptr<model::Model> m = load_model(f.model);
  const tokenizer::ChatTemplate tmpl = load_template(*m);
  std::vector<tokenizer::ChatMessage> messages;
  if (!f.system.empty()) messages.push_back({"system", f.system});
  if (!f.prompt.empty()) {
    messages.push_back({"user", f.prompt});
    reply(*m, tmpl, messages, f);
    return;
  }
  std::string line;
  for (;;) {
    std::fputs("> ", stderr);
    std::fflush(stderr);
    if (!std::getline(std::cin, line) || line.empty()) break;
    messages.push_back({"user", line});
    messages.push_back({"assistant", reply(*m, tmpl, messages, f)});
  }
}

void add_chat_command(CLI::App& app) {
  auto flags = std::make_shared<ChatFlags>();
  CLI::App* cmd = app.add_subcommand(
      "chat", "chat through the model's template (one user turn per line on stdin, or -p)");
  add_model_flags(cmd, flags->model);
  add_generation_flags(cmd, flags->gen, 512);
  cmd->add_option("-p,--prompt", flags->prompt, "a single user turn; print the reply and exit");
  cmd->add_option("--system", flags->system, "system message");
  cmd->callback([flags] { chat_command(*flags); });
}

}  // namespace

KESTREL_COMMAND("chat", add_chat_command);

}  // namespace kestrel::app
