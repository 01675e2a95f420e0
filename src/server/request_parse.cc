#include "server/request_parse.h"

#include <limits>

#include "core/error.h"
#include "server/api_error.h"

namespace kestrel::server {
namespace {

using nlohmann::json;

const json* field(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

double number(const json& body, const char* name, double def, double lo, double hi) {
  const json* v = field(body, name);
  if (v == nullptr) return def;
  if (!v->is_number()) throw bad_param(name, std::string("'") + name + "' must be a number");
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi)) {
    throw bad_param(name, std::string("'") + name + "' must be in [" + std::to_string(lo) + ", " +
                              std::to_string(hi) + "], got " + v->dump());
  }
  return x;
}

int64_t integer(const json& body, const char* name, int64_t def, int64_t lo, int64_t hi) {
  const json* v = field(body, name);
  if (v == nullptr) return def;
  if (!v->is_number_integer()) {
    throw bad_param(name, std::string("'") + name + "' must be an integer");
  }
  const int64_t x = v->get<int64_t>();
  if (x < lo || x > hi) {
    throw bad_param(name, std::string("'") + name + "' must be in [" + std::to_string(lo) + ", " +
                              std::to_string(hi) + "], got " + std::to_string(x));
  }
  return x;
}

bool boolean(const json& body, const char* name, bool def) {
  const json* v = field(body, name);
  if (v == nullptr) return def;
  if (!v->is_boolean()) throw bad_param(name, std::string("'") + name + "' must be a boolean");
  return v->get<bool>();
}

void reject_unsupported(const json& body, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (field(body, name) != nullptr) {
      throw bad_param(name, std::string("'") + name + "' is not supported by this server");
    }
  }
}

// The fields both endpoints share.
void parse_common(const json& body, const Limits& limits, ParsedRequest& r) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
  if (const json* m = field(body, "model")) {
    if (!m->is_string()) throw bad_param("model", "'model' must be a string");
    r.model = m->get<std::string>();
  }
  sample::SamplingParams& s = r.sampling;
  // OpenAI semantics: plain temperature/top-p sampling unless top_k or min_p are asked for.
  s.temperature = static_cast<float>(number(body, "temperature", 1.0, 0.0, 2.0));
  s.top_p = static_cast<float>(number(body, "top_p", 1.0, 0.0, 1.0));
  if (s.top_p == 0.0f) s.temperature = 0.0f;  // top_p 0 keeps only the most likely token
  if (s.top_p == 0.0f) s.top_p = 1.0f;
  s.top_k = static_cast<int32_t>(integer(body, "top_k", 0, 0, 1 << 20));
  s.min_p = static_cast<float>(number(body, "min_p", 0.0, 0.0, 1.0));
  s.presence_penalty = static_cast<float>(number(body, "presence_penalty", 0.0, -2.0, 2.0));
  s.frequency_penalty = static_cast<float>(number(body, "frequency_penalty", 0.0, -2.0, 2.0));
  s.repeat_penalty = static_cast<float>(number(body, "repetition_penalty", 1.0, 0.01, 10.0));
  if (const json* seed = field(body, "seed")) {
    if (!seed->is_number_integer()) throw bad_param("seed", "'seed' must be an integer");
    s.seed = static_cast<uint64_t>(seed->get<int64_t>());
  }
  try {
    s.validate();
  } catch (const Error& e) {
    throw ApiError(400, e.what());
  }
  r.n = static_cast<int32_t>(integer(body, "n", 1, 1, limits.max_n));
  r.ignore_eos = boolean(body, "ignore_eos", false);
  r.stream = boolean(body, "stream", false);
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) throw bad_param("stream_options", "'stream_options' must be an object");
    if (!r.stream) {
      throw bad_param("stream_options", "'stream_options' is only allowed when 'stream' is true");
    }
    r.include_usage = boolean(*so, "include_usage", false);
  }
  if (const json* stop = field(body, "stop")) {
    if (stop->is_string()) {
      r.stops.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      for (const json& x : *stop) {
        if (!x.is_string()) throw bad_param("stop", "'stop' must be a string or a list of strings");
        r.stops.push_back(x.get<std::string>());
      }
    } else {
      throw bad_param("stop", "'stop' must be a string or a list of strings");
    }
    if (static_cast<int32_t>(r.stops.size()) > limits.max_stops) {
      throw bad_param("stop", "at most " + std::to_string(limits.max_stops) + " stop strings");
    }
    for (const std::string& x : r.stops) {
      if (x.empty()) throw bad_param("stop", "stop strings must not be empty");
    }
  }
  reject_unsupported(body, {"logit_bias", "tools", "functions", "response_format", "suffix"});
}

}  // namespace

ParsedRequest parse_completion(const json& body, const Limits& limits) {
  ParsedRequest r;
  parse_common(body, limits, r);
  const json* prompt = field(body, "prompt");
  if (prompt == nullptr) throw bad_param("prompt", "'prompt' is required");
  // A string, a list of token ids, or a batch: a list of strings or of token-id lists.
  auto token_ids = [](const json& list) {
    PromptInput in;
    in.is_tokens = true;
    for (const json& t : list) {
      if (!t.is_number_integer()) throw bad_param("prompt", "token ids must be integers");
      const int64_t id = t.get<int64_t>();
      if (id < 0 || id > std::numeric_limits<int32_t>::max()) {
        throw bad_param("prompt", "token id " + std::to_string(id) + " out of range");
      }
      in.tokens.push_back(static_cast<int32_t>(id));
    }
    return in;
  };
  if (prompt->is_string()) {
    r.prompts.push_back({prompt->get<std::string>(), {}, false});
  } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number_integer()) {
    r.prompts.push_back(token_ids(*prompt));
  } else if (prompt->is_array() && !prompt->empty()) {
    if (static_cast<int64_t>(prompt->size()) > limits.max_prompts) {
      throw bad_param("prompt", "at most " + std::to_string(limits.max_prompts) +
                                    " prompts per request");
    }
    for (const json& x : *prompt) {
      if (x.is_string()) {
        r.prompts.push_back({x.get<std::string>(), {}, false});
      } else if (x.is_array() && !x.empty()) {
        r.prompts.push_back(token_ids(x));
      } else {
        throw bad_param("prompt", "a list of prompts holds strings or non-empty lists of token ids");
      }
    }
  } else {
    throw bad_param("prompt",
                    "'prompt' must be a string, a list of token ids, or a list of prompts");
  }
  r.max_tokens = static_cast<int32_t>(integer(body, "max_tokens", 16, 0, limits.max_tokens));
  r.echo = boolean(body, "echo", false);
  if (const json* lp = field(body, "logprobs")) {
    if (!lp->is_number_integer()) throw bad_param("logprobs", "'logprobs' must be an integer");
    r.logprobs = static_cast<int32_t>(integer(body, "logprobs", 0, 0, 5));
  }
  const int64_t best_of = integer(body, "best_of", r.n, 1, limits.max_n);
  if (best_of != r.n) throw bad_param("best_of", "'best_of' other than 'n' is not supported");
  return r;
}

ParsedRequest parse_chat(const json& body, const Limits& limits) {
  ParsedRequest r;
  r.chat = true;
  parse_common(body, limits, r);
  const json* messages = field(body, "messages");
  if (messages == nullptr || !messages->is_array() || messages->empty()) {
    throw bad_param("messages", "'messages' must be a non-empty list");
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) throw bad_param(where, where + " must be an object");
    const json* role = field(m, "role");
    if (role == nullptr || !role->is_string()) throw bad_param(where + ".role", "role is required");
    tokenizer::ChatMessage msg;
    msg.role = role->get<std::string>();
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" &&
        msg.role != "developer") {
      throw bad_param(where + ".role", "unsupported role '" + msg.role + "'");
    }
    if (msg.role == "developer") msg.role = "system";
    const json* content = field(m, "content");
    if (content == nullptr) {
      msg.content = "";
    } else if (content->is_string()) {
      msg.content = content->get<std::string>();
    } else if (content->is_array()) {
      for (const json& part : *content) {
        const json* type = part.is_object() ? field(part, "type") : nullptr;
        if (type == nullptr || *type != "text" || !part.contains("text") ||
            !part["text"].is_string()) {
          throw bad_param(where + ".content", "only text content parts are supported");
        }
        msg.content += part["text"].get<std::string>();
      }
    } else {
      throw bad_param(where + ".content", "content must be a string or a list of text parts");
    }
    r.messages.push_back(std::move(msg));
  }
  int64_t max_tokens = integer(body, "max_tokens", -1, 1, limits.max_tokens);
  max_tokens = integer(body, "max_completion_tokens", max_tokens, 1, limits.max_tokens);
  r.max_tokens = static_cast<int32_t>(max_tokens);
  if (boolean(body, "logprobs", false)) {
    r.logprobs = static_cast<int32_t>(integer(body, "top_logprobs", 0, 0, 20));
  } else if (field(body, "top_logprobs") != nullptr) {
    throw bad_param("top_logprobs", "'top_logprobs' needs 'logprobs': true");
  }
  return r;
}

}  // namespace kestrel::server
