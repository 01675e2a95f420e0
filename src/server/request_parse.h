// OpenAI request bodies -> what the engine runs. Validation happens here, at the edge: every bad
// field becomes an ApiError (400) naming the parameter.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sample/sampling_params.h"
#include "tokenizer/chat_template.h"

namespace kestrel::server {

struct Limits {
  int32_t max_prompt_tokens = 2047;
  int32_t max_tokens = 2048;  // largest max_tokens a request may ask for
  int32_t max_n = 8;
  int32_t max_prompts = 16;  // prompts in one completions request (each gets n choices)
  int32_t max_stops = 4;
};

// One completions prompt: text, or token ids.
struct PromptInput {
  std::string text;
  std::vector<int32_t> tokens;
  bool is_tokens = false;
};

// What /v1/completions and /v1/chat/completions share once parsed.
struct ParsedRequest {
  bool chat = false;
  std::vector<PromptInput> prompts;  // completions: one or more; chat: unused
  std::vector<tokenizer::ChatMessage> messages;
  sample::SamplingParams sampling;
  int32_t max_tokens = -1;  // -1: until the context is full (chat default)
  int32_t n = 1;
  bool stream = false;
  bool include_usage = false;
  bool echo = false;
  bool ignore_eos = false;  // extension (as llama.cpp's server): fixed-length outputs for benchmarks
  int32_t logprobs = -1;  // top alternatives; -1: no logprobs
  std::vector<std::string> stops;
  std::string model;
};

// Throws ApiError for anything malformed or out of range.
ParsedRequest parse_completion(const nlohmann::json& body, const Limits& limits);
ParsedRequest parse_chat(const nlohmann::json& body, const Limits& limits);

}  // namespace kestrel::server
