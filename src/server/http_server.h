// The HTTP side of `kestrel serve`: OpenAI-compatible routes (completions, chat completions with
// SSE streaming, models), /health, /metrics (Prometheus text), the chat page at /, bearer-key auth
// on every route but /health and /, limits, and a graceful shutdown that lets in-flight requests
// finish. Generation runs on the EngineWorker's thread; this class only parses, tokenizes, waits
// on channels and writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "model/model.h"
#include "server/engine_worker.h"
#include "server/metrics.h"
#include "server/request_parse.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib
namespace kestrel::tokenizer {
class ChatTemplate;
}

namespace kestrel::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port (see bound_port())
  std::vector<std::string> api_keys;  // empty: no authentication
  size_t max_body_bytes = 1 << 20;
  Limits limits;
  double request_timeout_s = 600;
  double shutdown_grace_s = 30;  // in-flight requests get this long after SIGTERM
  int http_threads = 0;          // 0: the worker's capacity + 16
  int32_t n_ctx = 2048;
  std::string model_id = "kestrel";
  bool log_requests = true;      // method, path, status, duration; never prompt or output text
};

class HttpServer {
 public:
  HttpServer(model::Model& model, EngineWorker& worker, Metrics& metrics, ServerOptions options);
  ~HttpServer();

  // Binds the socket; throws kestrel::Error when it cannot. Returns the port.
  int bind();
  // Serves until shutdown() has finished; call after bind().
  void run();
  // Graceful: refuse new requests (503), wait for in-flight ones up to the grace period, end the
  // rest (their streams get an error event), then stop. Callable from any thread, once or more.
  void shutdown();

 private:
  struct Tenant;
  void routes();
  bool authorized(const httplib::Request& req, uint64_t& salt) const;
  void handle_generation(const httplib::Request& req, httplib::Response& res, bool chat);

  model::Model& model_;
  EngineWorker& worker_;
  Metrics& metrics_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<tokenizer::ChatTemplate> template_;
  std::string template_error_;
  std::mutex tokenizer_mu_;  // tokenization and template rendering, one at a time
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> active_{0};  // generation requests being answered
  std::mutex shutdown_mu_;
  bool shut_down_ = false;
  int64_t created_;
};

}  // namespace kestrel::server
