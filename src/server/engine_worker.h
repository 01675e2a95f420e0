// The bridge between HTTP threads and the one engine thread. HTTP threads submit a request (one
// engine sequence per choice, n >= 1) with a Channel and read its token events from that channel;
// the engine thread adds, steps, cancels and pushes events. Nothing of the engine is touched from
// another thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/tpot_controller.h"
#include "server/metrics.h"

namespace kestrel::server {

struct ChoiceEvent {
  int32_t index = 0;  // which choice (sequence) of the request
  int32_t token = -1;
  engine::FinishReason finish = engine::FinishReason::kNone;
  bool has_logprobs = false;
  engine::TokenLogprobs logprobs;
  bool has_prompt_logprobs = false;  // on a choice's first event when echo + logprobs asked
  std::vector<engine::TokenLogprobs> prompt_logprobs;
  std::string error;  // set when the engine refused the sequence
};

// A request's event queue: the engine thread pushes, one HTTP thread pops.
class Channel {
 public:
  void push(ChoiceEvent e);
  // Waits until an event is there or the deadline passes; false on timeout.
  bool pop(ChoiceEvent& out, std::chrono::steady_clock::time_point deadline);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ChoiceEvent> events_;
};

struct WorkerOptions {
  int32_t max_queue = 64;       // sequences that may wait beyond the running ones
  double target_tpot_ms = 0;    // > 0: adapt the batch to keep steps under this
};

class EngineWorker {
 public:
  enum class Submit { kOk, kQueueFull, kShuttingDown };

  EngineWorker(model::Model& model, const engine::EngineOptions& options,
               const WorkerOptions& worker, Metrics& metrics);
  ~EngineWorker();  // cancels what is left and joins the thread

  // Queues the choices of one request (validated by the caller); events go to `channel`.
  Submit submit(std::vector<engine::GenerationRequest> choices, std::shared_ptr<Channel> channel,
                uint64_t& ticket);
  // Ends the ticket's sequence of choice `index`, or all of them for -1 (each gets a kAborted
  // event); ticket 0 means every ticket; unknown tickets are ignored.
  void cancel(uint64_t ticket, int32_t index = -1);
  // Refuses new submissions; running ones go on.
  void stop_accepting() { accepting_ = false; }
  int64_t in_flight() const { return in_flight_; }
  int32_t capacity() const { return capacity_; }

 private:
  struct Job {
    uint64_t ticket;
    std::vector<engine::GenerationRequest> choices;
    std::shared_ptr<Channel> channel;
    std::chrono::steady_clock::time_point arrival;
  };
  struct Live {  // one engine sequence, engine thread only
    uint64_t ticket;
    int32_t index;
    std::shared_ptr<Channel> channel;
    std::chrono::steady_clock::time_point arrival, last;
    bool first = true;
  };

  void loop();
  void start_job(Job& job);
  void on_event(engine::SeqId seq, const engine::TokenEvent& e);
  void publish_gauges();

  engine::Engine engine_;
  Metrics& metrics_;
  std::unique_ptr<engine::TpotController> tpot_;
  int32_t capacity_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> inbox_;
  std::vector<std::pair<uint64_t, int32_t>> cancels_;
  bool stop_ = false;
  std::atomic<bool> accepting_{true};
  std::atomic<int64_t> in_flight_{0};  // sequences accepted and not finished
  std::atomic<uint64_t> next_ticket_{1};

  // Engine thread only.
  std::unordered_map<engine::SeqId, Live> live_;
  std::unordered_map<uint64_t, std::vector<engine::SeqId>> by_ticket_;
  std::thread thread_;
};

}  // namespace kestrel::server
