#include "server/engine_worker.h"

#include "core/error.h"

namespace kestrel::server {

void Channel::push(ChoiceEvent e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_one();
}

bool Channel::pop(ChoiceEvent& out, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_until(lock, deadline, [this] { return !events_.empty(); })) return false;
  out = std::move(events_.front());
  events_.pop_front();
  return true;
}

EngineWorker::EngineWorker(model::Model& model, const engine::EngineOptions& options,
                           const WorkerOptions& worker, Metrics& metrics)
    : engine_(model, options), metrics_(metrics),
      capacity_(options.max_running + worker.max_queue) {
  if (worker.target_tpot_ms > 0) {
    tpot_ = std::make_unique<engine::TpotController>(worker.target_tpot_ms / 1000.0,
                                                     engine_.scheduler().limits());
  }
  publish_gauges();
  thread_ = std::thread([this] { loop(); });
}

EngineWorker::~EngineWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

EngineWorker::Submit EngineWorker::submit(std::vector<engine::GenerationRequest> choices,
                                          std::shared_ptr<Channel> channel, uint64_t& ticket) {
  if (!accepting_) return Submit::kShuttingDown;
  const int64_t n = static_cast<int64_t>(choices.size());
  // Reserve room first; give it back if over capacity (so concurrent submits cannot overshoot).
  if (in_flight_.fetch_add(n) + n > capacity_) {
    in_flight_ -= n;
    return Submit::kQueueFull;
  }
  ticket = next_ticket_++;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox_.push_back(Job{ticket, std::move(choices), std::move(channel),
                         std::chrono::steady_clock::now()});
  }
  cv_.notify_all();
  return Submit::kOk;
}

void EngineWorker::cancel(uint64_t ticket, int32_t index) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancels_.emplace_back(ticket, index);
  }
  cv_.notify_all();
}

void EngineWorker::start_job(Job& job) {
  std::vector<engine::SeqId>& ids = by_ticket_[job.ticket];
  for (size_t i = 0; i < job.choices.size(); ++i) {
    try {
      const engine::SeqId id = engine_.add(
          std::move(job.choices[i]),
          [this](const engine::TokenEvent& e) { on_event(e.seq, e); });
      ids.push_back(id);
      live_[id] = Live{job.ticket, static_cast<int32_t>(i), job.channel, job.arrival, job.arrival};
    } catch (const Error& e) {
      --in_flight_;
      ChoiceEvent ev;
      ev.index = static_cast<int32_t>(i);
      ev.finish = engine::FinishReason::kAborted;
      ev.error = e.what();
      job.channel->push(std::move(ev));
    }
  }
  if (ids.empty()) by_ticket_.erase(job.ticket);
}

void EngineWorker::on_event(engine::SeqId seq, const engine::TokenEvent& e) {
  auto it = live_.find(seq);
  if (it == live_.end()) return;
  Live& live = it->second;
  const auto now = std::chrono::steady_clock::now();
  if (e.token >= 0) {
    const auto from = live.first ? live.arrival : live.last;
    const double since = std::chrono::duration<double>(now - from).count();
    if (live.first) {
      metrics_.on_first_token(since);
    } else {
      metrics_.on_inter_token(since);
    }
    live.first = false;
    live.last = now;
  }
  ChoiceEvent ev;
  ev.index = live.index;
  ev.token = e.token;
  ev.finish = e.finish;
  if (e.logprobs != nullptr) {
    ev.has_logprobs = true;
    ev.logprobs = *e.logprobs;
  }
  if (e.prompt_logprobs != nullptr) {
    ev.has_prompt_logprobs = true;
    ev.prompt_logprobs = *e.prompt_logprobs;
  }
  live.channel->push(std::move(ev));
  if (e.finish != engine::FinishReason::kNone) {
    auto t = by_ticket_.find(live.ticket);
    if (t != by_ticket_.end()) {
      std::erase(t->second, seq);
      if (t->second.empty()) by_ticket_.erase(t);
    }
    live_.erase(it);
    --in_flight_;
  }
}

void EngineWorker::publish_gauges() {
  EngineGauges g;
  g.waiting = engine_.n_waiting();
  g.running = engine_.n_running();
  g.kv_usage = engine_.kv().usage().fraction();
  g.kv_cached_blocks = engine_.kv().pool().n_cached();
  g.prefix_query_tokens = engine_.kv().prefix_query_tokens();
  g.prefix_hit_tokens = engine_.kv().prefix_hit_tokens();
  g.preemptions = engine_.scheduler().stats().preemptions;
  g.prompt_tokens = engine_.stats().prompt_tokens;
  g.generated_tokens = engine_.stats().generated_tokens;
  g.steps = engine_.stats().steps;
  g.token_budget = engine_.scheduler().limits().token_budget;
  g.max_running = engine_.scheduler().limits().max_running;
  metrics_.set_gauges(g);
}

void EngineWorker::loop() {
  for (;;) {
    std::deque<Job> jobs;
    std::vector<std::pair<uint64_t, int32_t>> cancels;
    bool stopping;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] {
        return stop_ || !inbox_.empty() || !cancels_.empty() || !engine_.idle();
      });
      jobs.swap(inbox_);
      cancels.swap(cancels_);
      stopping = stop_;
    }
    for (Job& job : jobs) start_job(job);
    if (stopping) {
      for (auto& [ticket, ids] : by_ticket_) cancels.emplace_back(ticket, -1);
    }
    for (const auto& [ticket, index] : cancels) {
      if (ticket == 0) {  // everything
        for (auto& [t, ids] : by_ticket_) {
          for (engine::SeqId id : ids) engine_.cancel(id);
        }
        continue;
      }
      auto it = by_ticket_.find(ticket);
      if (it == by_ticket_.end()) continue;
      for (engine::SeqId id : it->second) {
        if (index < 0 || live_.at(id).index == index) engine_.cancel(id);
      }
    }
    if (stopping) {
      engine_.step();  // reaps the cancelled sequences (their channels get kAborted)
      return;
    }
    if (engine_.idle()) {
      publish_gauges();
      continue;
    }
    const int64_t generated_before = engine_.stats().generated_tokens;
    try {
      engine_.step();
    } catch (const Error& e) {
      // A failed step leaves no consistent state to continue from for its sequences: end them all
      // with an error so every client gets an answer.
      for (auto& [ticket, ids] : by_ticket_) {
        for (engine::SeqId id : ids) engine_.cancel(id);
      }
      engine_.step();
    }
    const int64_t produced = engine_.stats().generated_tokens - generated_before;
    if (produced > 0) {
      metrics_.on_generated(produced);
    }
    if (tpot_ && engine_.n_running() > 0) {
      engine_.set_limits(tpot_->update(engine_.stats().last_step_seconds, engine_.n_running(),
                                       engine_.n_waiting()));
    }
    publish_gauges();
  }
}

}  // namespace kestrel::server
