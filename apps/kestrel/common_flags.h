// Flags shared by the generating subcommands (run, chat): model loading and sampling.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "model/model.h"
#include "sample/sampling_params.h"

namespace kestrel::app {

struct ModelFlags {
  std::string path;
  int threads = 0;
  int32_t n_ctx = 4096;
  bool verbose = false;
};

void add_model_flags(CLI::App* cmd, ModelFlags& flags);
// Loads the model (and sets the log level from --verbose); throws kestrel::Error.
std::unique_ptr<model::Model> load_model(const ModelFlags& flags);
engine::EngineOptions engine_options(const ModelFlags& flags, const model::Model& model);

struct GenerationFlags {
  sample::SamplingParams sampling;
  int32_t max_tokens = 128;
  std::vector<std::string> stops;
  bool ignore_eos = false;
};

void add_generation_flags(CLI::App* cmd, GenerationFlags& flags, int32_t default_max_tokens);

// Timings line for stderr: prompt and generation tokens and tokens/s.
std::string format_timings(const engine::EngineStats& stats);

}  // namespace kestrel::app
