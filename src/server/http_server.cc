#include "server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/text_stream.h"
#include "io/gguf/gguf_file.h"
#include "server/api_error.h"
#include "server/web_page.h"
#include "tokenizer/builtin_templates.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::server {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Model output may hold broken UTF-8 (a token split inside a character); replace, never throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  res.set_content(dump(e.body()), "application/json");
}

uint64_t tenant_salt(const std::string& key) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  return h | 1;  // never 0, the salt of an unauthenticated server
}

bool equal_constant_time(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string random_id(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%llx%06llx", prefix,
                static_cast<unsigned long long>(std::time(nullptr)),
                static_cast<unsigned long long>(++counter));
  return buf;
}

const char* finish_name(engine::FinishReason r) {
  return r == engine::FinishReason::kLength ? "length" : "stop";
}

// One choice's text as it streams: stop strings, UTF-8 completion, token counts and logprobs.
struct ChoiceState {
  ChoiceState(const tokenizer::Tokenizer& tok, std::vector<std::string> stops)
      : text(tok, std::move(stops)) {}
  engine::TextStream text;
  std::string out;              // text emitted so far
  int32_t prompt = 0;           // which prompt of the request (completions may send several)
  int32_t n_tokens = 0;         // tokens generated (usage)
  bool done = false;
  std::string finish;           // "stop" / "length"
  json logprobs = json::array();  // per emitted token, in the endpoint's format
  // Completions with echo and logprobs: the prompt tokens' entries, as completion_logprobs
  // arrays (tokens, token_logprobs, top_logprobs, text_offset); null until they arrive.
  json prompt_logprobs = nullptr;
};

// cpp-httplib listens with a backlog of 5 (fixed when the library was built), so a burst of
// clients overflows the accept queue and some connections fail. listen() on a socket that already
// listens only changes its backlog: find ours (listening, bound to our port) and widen it.
void widen_listen_backlog(int port) {
  for (int fd = 0; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int bound = -1;
    if (addr.ss_family == AF_INET) bound = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) bound = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (bound == port) ::listen(fd, 1024);
  }
}

}  // namespace

HttpServer::HttpServer(model::Model& model, EngineWorker& worker, Metrics& metrics,
                       ServerOptions options)
    : model_(model), worker_(worker), metrics_(metrics), options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()), created_(std::time(nullptr)) {
  try {
    std::string source = model_.gguf().get_string_or("tokenizer.chat_template", "");
    if (source.empty()) {
      auto builtin = tokenizer::builtin_chat_template(model_.hparams().arch);
      KESTREL_CHECK(builtin.has_value(), "the model has no chat template");
      source = *builtin;
    }
    template_ = std::make_unique<tokenizer::ChatTemplate>(source);
  } catch (const Error& e) {
    template_error_ = e.what();  // completions still work; chat answers 400 with this
  }
  routes();
}

HttpServer::~HttpServer() = default;

bool HttpServer::authorized(const httplib::Request& req, uint64_t& salt) const {
  salt = 0;
  if (options_.api_keys.empty()) return true;
  const std::string auth = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (auth.size() <= prefix.size() || auth.compare(0, prefix.size(), prefix) != 0) return false;
  const std::string key = auth.substr(prefix.size());
  bool ok = false;
  for (const std::string& k : options_.api_keys) ok |= equal_constant_time(k, key);
  if (ok) salt = tenant_salt(key);
  return ok;
}

void HttpServer::routes() {
  httplib::Server& s = *http_;
  s.set_payload_max_length(options_.max_body_bytes);
  s.set_read_timeout(30);
  s.set_write_timeout(30);
  const int threads = options_.http_threads > 0 ? options_.http_threads : worker_.capacity() + 16;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  s.set_pre_routing_handler([this](const httplib::Request& req,
                                   httplib::Response& res) -> httplib::Server::HandlerResponse {
    if (req.path == "/health" || req.path == "/") return httplib::Server::HandlerResponse::Unhandled;
    uint64_t salt;
    if (!authorized(req, salt)) {
      send_error(res, ApiError(401, "invalid or missing API key (Authorization: Bearer KEY)",
                               "invalid_request_error", "", "invalid_api_key"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib produces itself (unknown route, body too large, bad request line) get an
  // OpenAI-style body too; our own error responses already have one.
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                           httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string msg = "HTTP error " + std::to_string(res.status);
    if (res.status == 404) msg = "no route " + req.method + " " + req.path;
    if (res.status == 405) msg = "method not allowed";
    if (res.status == 413) msg = "request body too large";
    send_error(res, ApiError(res.status, msg));
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, ApiError(500, "internal error", "server_error"));
  });
  if (options_.log_requests) {
    s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "kestrel serve: %s %s %d\n", req.method.c_str(), req.path.c_str(),
                   res.status);
    });
  }

  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (draining_) {
      send_error(res, ApiError(503, "shutting down", "server_error"));
      return;
    }
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kChatPage, "text/html; charset=utf-8");
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  });
  s.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json m = {{"id", options_.model_id}, {"object", "model"}, {"created", created_},
              {"owned_by", "kestrel"}};
    res.set_content(dump({{"object", "list"}, {"data", json::array({m})}}), "application/json");
  });
  s.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_generation(req, res, false);
  });
  s.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_generation(req, res, true);
  });
}

void HttpServer::handle_generation(const httplib::Request& req, httplib::Response& res,
                                   bool chat) {
  uint64_t salt = 0;
  authorized(req, salt);
  const tokenizer::Tokenizer& tok = model_.tokenizer();
  ParsedRequest p;
  std::vector<std::vector<int32_t>> prompts;  // chat: one; completions: one or more
  try {
    if (draining_) throw ApiError(503, "the server is shutting down", "server_error");
    json body;
    try {
      body = json::parse(req.body);
    } catch (const json::exception& e) {
      throw ApiError(400, std::string("invalid JSON body: ") + e.what());
    }
    p = chat ? parse_chat(body, options_.limits) : parse_completion(body, options_.limits);
    {
      std::lock_guard<std::mutex> lock(tokenizer_mu_);
      if (chat) {
        if (!template_) throw ApiError(400, "chat is unavailable: " + template_error_);
        const std::string bos = tok.bos() >= 0 ? tok.token_text(tok.bos()) : "";
        const std::string eos = tok.eos() >= 0 ? tok.token_text(tok.eos()) : "";
        std::string text;
        try {
          text = template_->apply(p.messages, true, bos, eos);
        } catch (const Error& e) {
          throw bad_param("messages", std::string("chat template: ") + e.what());
        }
        prompts.push_back(tok.encode(text, /*add_special=*/false, /*parse_special=*/true));
      } else {
        for (const PromptInput& in : p.prompts) {
          prompts.push_back(in.is_tokens ? in.tokens
                                         : tok.encode(in.text, /*add_special=*/true,
                                                      /*parse_special=*/true));
        }
      }
    }
    // The longest prompt bounds max_tokens for all of them.
    int32_t longest = 0;
    for (const std::vector<int32_t>& prompt : prompts) {
      if (prompt.empty()) throw bad_param(chat ? "messages" : "prompt", "the prompt is empty");
      for (int32_t t : prompt) {
        if (t >= tok.n_vocab()) {
          throw bad_param("prompt", "token id " + std::to_string(t) + " is not in the vocabulary");
        }
      }
      longest = std::max(longest, static_cast<int32_t>(prompt.size()));
    }
    const int32_t room = options_.n_ctx - longest;
    if (longest > options_.limits.max_prompt_tokens || room < 1) {
      throw ApiError(400,
                     "the prompt has " + std::to_string(longest) + " tokens; this server takes " +
                         std::to_string(std::min(options_.limits.max_prompt_tokens,
                                                 options_.n_ctx - 1)) + " at most",
                     "invalid_request_error", chat ? "messages" : "prompt",
                     "context_length_exceeded");
    }
    if (p.max_tokens < 0) p.max_tokens = std::min(room, options_.limits.max_tokens);
    if (p.max_tokens > room) {
      throw ApiError(400,
                     "max_tokens " + std::to_string(p.max_tokens) + " plus the prompt's " +
                         std::to_string(longest) + " tokens exceed the context length " +
                         std::to_string(options_.n_ctx),
                     "invalid_request_error", "max_tokens", "context_length_exceeded");
    }
  } catch (const ApiError& e) {
    metrics_.on_request(e.status());
    send_error(res, e);
    return;
  }

  const std::string id = random_id(chat ? "chatcmpl" : "cmpl");
  const int64_t created = std::time(nullptr);
  const std::string model_name = options_.model_id;
  // Choice k answers prompt k / n (OpenAI's order: all choices of the first prompt, then the
  // next); each echoes its own prompt.
  const int32_t n_choices = static_cast<int32_t>(prompts.size()) * p.n;
  std::vector<std::string> echo_texts;
  int32_t n_prompt = 0;  // usage: every prompt's tokens, once
  for (size_t i = 0; i < prompts.size(); ++i) {
    std::string echo;
    if (p.echo) echo = p.prompts[i].is_tokens ? tok.decode(prompts[i], true) : p.prompts[i].text;
    echo_texts.push_back(std::move(echo));
    n_prompt += static_cast<int32_t>(prompts[i].size());
  }

  auto choices = std::make_shared<std::vector<ChoiceState>>();
  for (int32_t i = 0; i < n_choices; ++i) {
    choices->emplace_back(tok, p.stops);
    choices->back().prompt = i / p.n;
  }

  // The prompt tokens' log-probability arrays (completions, echo + logprobs): the first token has
  // no context, so its logprob and alternatives are null, as OpenAI's API gives them.
  auto prompt_logprobs_json = [&tok](const std::vector<int32_t>& prompt,
                                     const std::vector<engine::TokenLogprobs>& lps) {
    json tokens = json::array(), values = json::array(), tops = json::array(),
         offsets = json::array();
    size_t off = 0;
    for (size_t i = 0; i < prompt.size(); ++i) {
      const std::string piece = tok.token_to_piece(prompt[i]);
      tokens.push_back(piece);
      offsets.push_back(off);
      off += piece.size();
      if (i == 0 || i - 1 >= lps.size()) {
        values.push_back(nullptr);
        tops.push_back(nullptr);
        continue;
      }
      const engine::TokenLogprobs& lp = lps[i - 1];
      values.push_back(lp.logprob);
      json top = json::object();
      for (const auto& [alt, v] : lp.top) top[tok.token_to_piece(alt)] = v;
      tops.push_back(top);
    }
    return json{{"tokens", tokens}, {"token_logprobs", values}, {"top_logprobs", tops},
                {"text_offset", offsets}};
  };

  // Token -> text, stop strings, logprob entries; returns the newly visible text.
  auto absorb = [&tok, chat, prompt_logprobs_json, prompts](ChoiceState& c,
                                                            const ChoiceEvent& ev) -> std::string {
    if (ev.has_prompt_logprobs) {
      c.prompt_logprobs = prompt_logprobs_json(prompts[c.prompt], ev.prompt_logprobs);
    }
    std::string piece;
    if (ev.token >= 0) {
      ++c.n_tokens;
      if (!tok.is_eog(ev.token)) {
        piece = c.text.push(ev.token);
        if (ev.has_logprobs && !c.text.stopped()) {
          const std::string t = tok.token_to_piece(ev.token);
          if (chat) {
            json top = json::array();
            for (const auto& [alt, lp] : ev.logprobs.top) {
              top.push_back({{"token", tok.token_to_piece(alt)}, {"logprob", lp}, {"bytes", nullptr}});
            }
            c.logprobs.push_back({{"token", t}, {"logprob", ev.logprobs.logprob},
                                  {"bytes", std::vector<uint8_t>(t.begin(), t.end())},
                                  {"top_logprobs", top}});
          } else {
            json top = json::object();
            for (const auto& [alt, lp] : ev.logprobs.top) top[tok.token_to_piece(alt)] = lp;
            c.logprobs.push_back({{"token", t}, {"logprob", ev.logprobs.logprob}, {"top", top}});
          }
        }
      }
    }
    if (c.text.stopped() && !c.done) {
      c.done = true;
      c.finish = "stop";
    } else if (ev.finish != engine::FinishReason::kNone && !c.done) {
      piece += c.text.finish();
      c.done = true;
      c.finish = finish_name(ev.finish);
      if (ev.finish == engine::FinishReason::kAborted) c.finish = "abort";
    }
    c.out += piece;
    return piece;
  };

  // The arrays of generated-token entries (offsets from text_offset0), after the prompt's arrays
  // when `prompt_part` is not null.
  auto completion_logprobs = [](const json& entries, size_t text_offset0, const json& prompt_part) {
    json tokens = json::array(), lps = json::array(), tops = json::array(),
         offsets = json::array();
    if (!prompt_part.is_null()) {
      tokens = prompt_part["tokens"];
      lps = prompt_part["token_logprobs"];
      tops = prompt_part["top_logprobs"];
      offsets = prompt_part["text_offset"];
    }
    size_t off = text_offset0;
    for (const json& e : entries) {
      tokens.push_back(e["token"]);
      lps.push_back(e["logprob"]);
      tops.push_back(e["top"]);
      offsets.push_back(off);
      off += e["token"].get<std::string>().size();
    }
    return json{{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops},
                {"text_offset", offsets}};
  };

  auto usage_of = [n_prompt](const std::vector<ChoiceState>& cs) {
    int64_t completion = 0;
    for (const ChoiceState& c : cs) completion += c.n_tokens;
    return json{{"prompt_tokens", n_prompt}, {"completion_tokens", completion},
                {"total_tokens", n_prompt + completion}};
  };

  // Completions with echo and logprobs score the prompt too (the engine computes it in full).
  const int32_t prompt_logprobs = !chat && p.echo && p.logprobs >= 0 ? p.logprobs : -1;

  // max_tokens 0 (completions): nothing to generate, and unless the prompt is to be scored,
  // nothing to compute.
  if (p.max_tokens == 0 && prompt_logprobs < 0) {
    json out_choices = json::array();
    for (int32_t i = 0; i < n_choices; ++i) {
      out_choices.push_back({{"text", echo_texts[i / p.n]}, {"index", i}, {"logprobs", nullptr},
                             {"finish_reason", "length"}});
    }
    json body = {{"id", id}, {"object", "text_completion"}, {"created", created},
                 {"model", model_name}, {"choices", out_choices}, {"usage", usage_of(*choices)}};
    metrics_.on_request(200);
    res.set_content(dump(body), "application/json");
    return;
  }

  std::vector<engine::GenerationRequest> reqs;
  for (int32_t i = 0; i < n_choices; ++i) {
    engine::GenerationRequest r;
    r.prompt = prompts[i / p.n];
    r.sampling = p.sampling;
    if (r.sampling.seed != sample::SamplingParams::kRandomSeed) r.sampling.seed += i;
    r.max_tokens = p.max_tokens;
    r.ignore_eos = p.ignore_eos;
    r.cache_salt = salt;
    r.logprobs = p.logprobs;
    r.prompt_logprobs = prompt_logprobs;
    reqs.push_back(std::move(r));
  }
  auto channel = std::make_shared<Channel>();
  uint64_t ticket = 0;
  switch (worker_.submit(std::move(reqs), channel, ticket)) {
    case EngineWorker::Submit::kOk: break;
    case EngineWorker::Submit::kQueueFull:
      metrics_.on_rejected();
      metrics_.on_request(429);
      res.set_header("Retry-After", "1");
      send_error(res, ApiError(429, "the server is at capacity; retry later", "rate_limit_error",
                               "", "rate_limit_exceeded"));
      return;
    case EngineWorker::Submit::kShuttingDown:
      metrics_.on_request(503);
      send_error(res, ApiError(503, "the server is shutting down", "server_error"));
      return;
  }
  const auto deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(options_.request_timeout_s * 1000));
  ++active_;

  if (!p.stream) {
    int32_t open = n_choices;
    std::string error;
    bool timed_out = false;
    while (open > 0) {
      ChoiceEvent ev;
      if (!channel->pop(ev, deadline)) {
        timed_out = true;
        break;
      }
      if (!ev.error.empty()) {
        error = ev.error;
        break;
      }
      ChoiceState& c = (*choices)[ev.index];
      const bool was_done = c.done;
      absorb(c, ev);
      if (!was_done && c.done) {
        --open;
        if (ev.finish == engine::FinishReason::kNone) worker_.cancel(ticket, ev.index);
      }
    }
    if (open > 0) worker_.cancel(ticket);
    --active_;
    if (timed_out || !error.empty()) {
      const ApiError e = timed_out ? ApiError(504, "the request timed out", "server_error")
                                   : ApiError(400, error);
      metrics_.on_request(e.status());
      send_error(res, e);
      return;
    }
    for (const ChoiceState& c : *choices) {
      if (c.finish == "abort") {
        metrics_.on_request(503);
        send_error(res, ApiError(503, "the request was ended by a server shutdown", "server_error"));
        return;
      }
    }
    json out_choices = json::array();
    for (int32_t i = 0; i < n_choices; ++i) {
      const ChoiceState& c = (*choices)[i];
      const std::string& echo_text = echo_texts[c.prompt];
      if (chat) {
        out_choices.push_back(
            {{"index", i},
             {"message", {{"role", "assistant"}, {"content", c.out}}},
             {"logprobs", p.logprobs >= 0 ? json{{"content", c.logprobs}} : json(nullptr)},
             {"finish_reason", c.finish}});
      } else {
        out_choices.push_back(
            {{"text", echo_text + c.out},
             {"index", i},
             {"logprobs", p.logprobs >= 0
                              ? completion_logprobs(c.logprobs, echo_text.size(), c.prompt_logprobs)
                              : json(nullptr)},
             {"finish_reason", c.finish}});
      }
    }
    json body = {{"id", id}, {"object", chat ? "chat.completion" : "text_completion"},
                 {"created", created}, {"model", model_name}, {"choices", out_choices},
                 {"usage", usage_of(*choices)}};
    metrics_.on_request(200);
    res.set_content(dump(body), "application/json");
    return;
  }

  // Streaming: server-sent events, one chunk per piece of text. A failed write means the client
  // went away: its sequences are cancelled at once.
  metrics_.on_request(200);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto state = std::make_shared<bool>(false);  // provider ran to the end
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, p, chat, id, created, model_name, echo_texts, n_choices, choices, channel, ticket,
       deadline, absorb, completion_logprobs, usage_of, state,
       prompt_logprobs](size_t, httplib::DataSink& sink) {
        auto send = [&sink](const json& j) {
          const std::string s = "data: " + dump(j) + "\n\n";
          return sink.write(s.data(), s.size());
        };
        auto chunk = [&](int32_t index, const json& delta_or_text, const json& finish,
                         const json& logprobs) {
          json c;
          if (chat) {
            c = {{"index", index}, {"delta", delta_or_text}, {"logprobs", logprobs},
                 {"finish_reason", finish}};
          } else {
            c = {{"text", delta_or_text}, {"index", index}, {"logprobs", logprobs},
                 {"finish_reason", finish}};
          }
          json j = {{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"},
                    {"created", created}, {"model", model_name}, {"choices", json::array({c})}};
          if (p.include_usage) j["usage"] = nullptr;
          return send(j);
        };
        bool ok = true;
        for (int32_t i = 0; i < n_choices && ok; ++i) {
          const std::string& echo_text = echo_texts[(*choices)[i].prompt];
          if (chat) {
            ok = chunk(i, {{"role", "assistant"}, {"content", ""}}, nullptr, nullptr);
          } else if (!echo_text.empty() && prompt_logprobs < 0) {
            ok = chunk(i, echo_text, nullptr, nullptr);
          }  // with prompt logprobs, the echo chunk waits for them (below)
        }
        int32_t open = n_choices;
        std::string error;
        while (ok && open > 0) {
          ChoiceEvent ev;
          if (!channel->pop(ev, deadline)) {
            error = "the request timed out";
            break;
          }
          if (!ev.error.empty()) {
            error = ev.error;
            break;
          }
          ChoiceState& c = (*choices)[ev.index];
          if (c.done) continue;
          const std::string& echo_text = echo_texts[c.prompt];
          const size_t n_lp = c.logprobs.size();
          const std::string piece = absorb(c, ev);
          if (ev.has_prompt_logprobs) {  // a choice's first event: the echo chunk goes first
            ok = chunk(ev.index, echo_text, nullptr, c.prompt_logprobs);
            if (!ok) break;
          }
          if (c.done && c.finish == "abort") {
            error = "the request was ended by a server shutdown";
            break;
          }
          json lp = nullptr;
          if (p.logprobs >= 0 && c.logprobs.size() > n_lp) {
            json added = json::array();
            for (size_t k = n_lp; k < c.logprobs.size(); ++k) added.push_back(c.logprobs[k]);
            if (chat) {
              lp = {{"content", added}};
            } else {
              lp = completion_logprobs(added, echo_text.size() + c.out.size() - piece.size(),
                                       nullptr);
            }
          }
          if (!piece.empty() || lp != nullptr) {
            ok = chunk(ev.index, chat ? json{{"content", piece}} : json(piece), nullptr, lp);
          }
          if (ok && c.done) {
            --open;
            if (ev.finish == engine::FinishReason::kNone) worker_.cancel(ticket, ev.index);
            ok = chunk(ev.index, chat ? json::object() : json(""), c.finish, nullptr);
          }
        }
        if (ok && !error.empty()) {
          ok = send(ApiError(error.find("timed out") != std::string::npos ? 504 : 500, error,
                             "server_error").body());
        }
        if (ok && error.empty() && p.include_usage) {
          json j = {{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"},
                    {"created", created}, {"model", model_name}, {"choices", json::array()},
                    {"usage", usage_of(*choices)}};
          ok = send(j);
        }
        if (open > 0) worker_.cancel(ticket);
        if (ok) {
          const std::string done = "data: [DONE]\n\n";
          sink.write(done.data(), done.size());
          sink.done();
        }
        *state = true;
        return ok;
      },
      [this, state, ticket](bool) {
        // Runs once the response is over, written or not: whatever is still generating for it
        // (client gone before the provider ran) is cancelled.
        if (!*state) worker_.cancel(ticket);
        --active_;
      });
}

int HttpServer::bind() {
  const int port = options_.port == 0 ? http_->bind_to_any_port(options_.host)
                                      : (http_->bind_to_port(options_.host, options_.port)
                                             ? options_.port
                                             : -1);
  KESTREL_CHECK(port > 0, "serve: cannot listen on ", options_.host, ":", options_.port);
  options_.port = port;
  widen_listen_backlog(port);
  return port;
}

void HttpServer::run() { http_->listen_after_bind(); }

void HttpServer::shutdown() {
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  if (shut_down_) return;
  draining_ = true;
  worker_.stop_accepting();
  const auto until = Clock::now() + std::chrono::milliseconds(
                                        static_cast<int64_t>(options_.shutdown_grace_s * 1000));
  while ((worker_.in_flight() > 0 || active_ > 0) && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (worker_.in_flight() > 0 || active_ > 0) {
    worker_.cancel(0);  // everything: streams end with an error event
    const auto hard = Clock::now() + std::chrono::seconds(5);
    while (active_ > 0 && Clock::now() < hard) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  http_->stop();
  shut_down_ = true;
}

}  // namespace kestrel::server
