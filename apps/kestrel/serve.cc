// kestrel serve: an OpenAI-compatible HTTP server over one engine thread with continuous batching,
// paged KV cache and prefix caching (docs/serving.md).
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include "commands.h"
#include "common_flags.h"
#include "core/error.h"
#include "core/log.h"
#include "server/engine_worker.h"
#include "server/http_server.h"

namespace kestrel::app {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct ServeFlags {
  ModelFlags model;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  std::string api_key_file;
  std::string profile = "throughput";
  double target_tpot_ms = 0;
  int32_t kv_tokens = 0;
  int32_t max_running = 0;
  int64_t token_budget = 0;
  int32_t max_queue = 64;
  int32_t max_tokens = 2048;
  int32_t max_n = 8;
  size_t max_body = 1 << 20;
  double timeout = 600;
  double grace = 30;
  bool no_prefix_cache = false;
  std::string alias;
};

std::vector<std::string> read_keys(const std::string& path) {
  std::ifstream in(path);
  KESTREL_CHECK(in.good(), path, ": cannot open");
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line[0] != '#') keys.push_back(line);
  }
  KESTREL_CHECK(!keys.empty(), path, ": no API keys in the file");
  return keys;
}

void serve_command(ServeFlags f) {
  KESTREL_CHECK(f.api_key.empty() || f.api_key_file.empty(),
                "serve: give at most one of --api-key and --api-key-file");
  KESTREL_CHECK(f.profile == "latency" || f.profile == "throughput",
                "serve: --profile must be latency or throughput, got '", f.profile, "'");
  server::ServerOptions so;
  so.host = f.host;
  so.port = f.port;
  if (!f.api_key.empty()) so.api_keys.push_back(f.api_key);
  if (!f.api_key_file.empty()) so.api_keys = read_keys(f.api_key_file);

  // Profiles: latency keeps steps short (small prefill chunks, few sequences); throughput fills
  // each step (every weight read once for many sequences).
  const bool latency = f.profile == "latency";
  model::ModelOptions mo;
  mo.n_threads = f.model.threads;
  mo.max_batch = latency ? 128 : 512;
  if (f.token_budget > mo.max_batch) mo.max_batch = f.token_budget;
  if (f.model.verbose) set_log_level(LogLevel::kInfo);
  std::unique_ptr<model::Model> model = model::Model::load(f.model.path, mo);

  engine::EngineOptions eo;
  eo.n_ctx = f.model.n_ctx;
  eo.token_budget = f.token_budget > 0 ? f.token_budget : (latency ? 64 : 512);
  eo.max_running = f.max_running > 0 ? f.max_running : (latency ? 8 : 64);
  eo.prefix_cache = !f.no_prefix_cache;
  const int32_t kv_tokens = f.kv_tokens > 0 ? f.kv_tokens : std::max(f.model.n_ctx, 32768);
  eo.n_blocks = (kv_tokens + eo.block_size - 1) / eo.block_size;
  server::WorkerOptions wo;
  wo.max_queue = f.max_queue;
  wo.target_tpot_ms = f.target_tpot_ms;

  so.n_ctx = f.model.n_ctx;
  so.limits.max_prompt_tokens = f.model.n_ctx - 1;
  so.limits.max_tokens = f.max_tokens;
  so.limits.max_n = f.max_n;
  so.max_body_bytes = f.max_body;
  so.request_timeout_s = f.timeout;
  so.shutdown_grace_s = f.grace;
  if (!f.alias.empty()) {
    so.model_id = f.alias;
  } else {
    const size_t slash = f.model.path.find_last_of('/');
    so.model_id = slash == std::string::npos ? f.model.path : f.model.path.substr(slash + 1);
  }

  server::Metrics metrics;
  server::EngineWorker worker(*model, eo, wo, metrics);
  server::HttpServer http(*model, worker, metrics, so);
  const int port = http.bind();
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::thread watcher([&http] {
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::fprintf(stderr, "kestrel serve: shutting down\n");
    http.shutdown();
  });
  std::fprintf(stderr, "kestrel serve: listening on http://%s:%d (model %s, profile %s)\n",
               f.host.c_str(), port, so.model_id.c_str(), f.profile.c_str());
  std::fflush(stderr);
  http.run();
  g_stop = 1;  // run() can also end on its own (listen error): let the watcher finish
  watcher.join();
  std::fprintf(stderr, "kestrel serve: stopped\n");
}

void add_serve_command(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  flags->model.n_ctx = 2048;
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server (docs/serving.md)");
  add_model_flags(cmd, flags->model);
  cmd->add_option("--host", flags->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", flags->port, "port (0: any free port)")
      ->check(CLI::Range(0, 65535))->capture_default_str();
  cmd->add_option("--api-key", flags->api_key, "require Authorization: Bearer KEY");
  cmd->add_option("--api-key-file", flags->api_key_file,
                  "file of API keys, one per line (each key is its own prefix-cache tenant)");
  cmd->add_option("--profile", flags->profile, "latency or throughput")->capture_default_str();
  cmd->add_option("--target-tpot-ms", flags->target_tpot_ms,
                  "adapt the batch to keep the time per output token under this")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--kv-tokens", flags->kv_tokens, "KV cache size in tokens (all sequences)")
      ->check(CLI::Range(16, 1 << 26));
  cmd->add_option("--max-running", flags->max_running, "most sequences in a batch")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--token-budget", flags->token_budget, "most tokens per engine step")
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--max-queue", flags->max_queue, "sequences that may wait beyond the batch")
      ->check(CLI::Range(0, 1 << 20))->capture_default_str();
  cmd->add_option("--max-tokens", flags->max_tokens, "largest max_tokens a request may ask for")
      ->check(CLI::Range(1, 1 << 24))->capture_default_str();
  cmd->add_option("--max-n", flags->max_n, "largest n (choices per request)")
      ->check(CLI::Range(1, 128))->capture_default_str();
  cmd->add_option("--max-body-bytes", flags->max_body, "largest request body")
      ->check(CLI::Range(1024, 1 << 30))->capture_default_str();
  cmd->add_option("--timeout", flags->timeout, "seconds a request may take")
      ->check(CLI::Range(0.1, 1e6))->capture_default_str();
  cmd->add_option("--shutdown-grace", flags->grace,
                  "seconds in-flight requests get after SIGTERM")
      ->check(CLI::Range(0.0, 1e6))->capture_default_str();
  cmd->add_flag("--no-prefix-cache", flags->no_prefix_cache, "do not reuse cached prefixes");
  cmd->add_option("--alias", flags->alias, "model id reported by the API (default: file name)");
  cmd->callback([flags] { serve_command(*flags); });
}

}  // namespace

KESTREL_COMMAND("serve", add_serve_command);

}  // namespace kestrel::app
