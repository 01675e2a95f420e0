#include "common_flags.h"

#include <cstdio>

#include "core/error.h"
#include "core/log.h"

namespace kestrel::app {

void add_model_flags(CLI::App* cmd, ModelFlags& flags) {
  cmd->add_option("-m,--model", flags.path, "GGUF model file")->required();
  cmd->add_option("-t,--threads", flags.threads, "CPU threads (0: all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("-c,--ctx-size", flags.n_ctx, "context length in tokens")
      ->check(CLI::Range(16, 1 << 20));
  cmd->add_flag("-v,--verbose", flags.verbose, "log model and kernel details to stderr");
}

std::unique_ptr<model::Model> load_model(const ModelFlags& flags) {
  if (flags.verbose) set_log_level(LogLevel::kInfo);
  model::ModelOptions options;
  options.n_threads = flags.threads;
  return model::Model::load(flags.path, options);
}

engine::EngineOptions engine_options(const ModelFlags& flags, const model::Model& model) {
  engine::EngineOptions options;
  options.n_ctx = flags.n_ctx;
  options.token_budget = model.max_batch();
  return options;
}

void add_generation_flags(CLI::App* cmd, GenerationFlags& flags, int32_t default_max_tokens) {
  flags.max_tokens = default_max_tokens;
  sample::SamplingParams& s = flags.sampling;
  cmd->add_option("-n,--n-predict", flags.max_tokens, "tokens to generate (-1: until the context is full)")
      ->check(CLI::Range(-1, 1 << 24));
  cmd->add_option("--temp", s.temperature, "temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", s.top_k, "top-k (0: off)")->capture_default_str();
  cmd->add_option("--top-p", s.top_p, "top-p (1: off)")->capture_default_str();
  cmd->add_option("--min-p", s.min_p, "min-p (0: off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", s.repeat_penalty, "repetition penalty (1: off)")
      ->capture_default_str();
  cmd->add_option("--repeat-last-n", s.repeat_last_n, "tokens the penalties look back over")
      ->capture_default_str();
  cmd->add_option("--frequency-penalty", s.frequency_penalty, "frequency penalty")
      ->capture_default_str();
  cmd->add_option("--presence-penalty", s.presence_penalty, "presence penalty")
      ->capture_default_str();
  cmd->add_option("-s,--seed", s.seed, "random seed (same seed, same text)");
  cmd->add_option("--stop", flags.stops, "stop string (repeatable)");
  cmd->add_flag("--ignore-eos", flags.ignore_eos, "do not stop at end-of-generation tokens");
}

std::string format_timings(const engine::EngineStats& st) {
  char buf[256];
  const double pp = st.prompt_seconds > 0 ? st.prompt_tokens / st.prompt_seconds : 0;
  // The first generated token comes out of the last prompt step; the rest come one per step.
  const int64_t decoded = st.generated_tokens > 0 ? st.generated_tokens - 1 : 0;
  const double tg = st.generate_seconds > 0 ? decoded / st.generate_seconds : 0;
  std::snprintf(buf, sizeof buf,
                "prompt: %lld tokens in %.3f s (%.1f tokens/s); generation: %lld tokens, "
                "%.1f tokens/s",
                static_cast<long long>(st.prompt_tokens), st.prompt_seconds, pp,
                static_cast<long long>(st.generated_tokens), tg);
  return buf;
}

}  // namespace kestrel::app
