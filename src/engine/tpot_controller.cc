#include "engine/tpot_controller.h"

#include <algorithm>

#include "core/error.h"

namespace kestrel::engine {
namespace {
constexpr int64_t kMinBudget = 8;
}

TpotController::TpotController(double target_seconds, SchedulerLimits ceiling)
    : target_(target_seconds), ceiling_(ceiling), limits_(ceiling) {
  KESTREL_CHECK(target_seconds > 0, "target time per output token must be positive");
}

SchedulerLimits TpotController::update(double step_seconds, int32_t n_running, int32_t n_waiting) {
  ema_ = ema_ == 0 ? step_seconds : 0.7 * ema_ + 0.3 * step_seconds;
  // Every running sequence needs a token per step, or its own inter-token time doubles.
  const int64_t floor_budget = std::max<int64_t>(kMinBudget, n_running);
  if (ema_ > target_) {
    if (limits_.token_budget > floor_budget) {
      limits_.token_budget = std::max<int64_t>(floor_budget, limits_.token_budget * 3 / 4);
    } else {
      // Prefill is already minimal: admit fewer sequences (running ones finish normally).
      limits_.max_running = std::max<int32_t>(1, std::min(limits_.max_running, n_running) * 3 / 4);
    }
  } else if (ema_ < 0.8 * target_) {
    limits_.token_budget = std::min<int64_t>(ceiling_.token_budget,
                                             limits_.token_budget + std::max<int64_t>(8, limits_.token_budget / 8));
    if (n_waiting > 0) limits_.max_running = std::min(ceiling_.max_running, limits_.max_running + 1);
  }
  limits_.token_budget = std::max<int64_t>(limits_.token_budget, 1);
  return limits_;
}

}  // namespace kestrel::engine
