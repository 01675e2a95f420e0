// Adapts the batch so the time per output token (one engine step, for every running sequence)
// stays under a target while throughput is as high as that allows: a smoothed step time above the
// target shrinks the token budget (less prefill mixed into each step) and then the number of
// admitted sequences; one well below it grows them back, up to the configured ceiling.
// Multiplicative decrease, additive increase, so it settles just under the target.
#pragma once

#include <cstdint>

#include "engine/scheduler.h"

namespace kestrel::engine {

class TpotController {
 public:
  // target_seconds > 0; ceiling: the largest limits it may choose (the profile's).
  TpotController(double target_seconds, SchedulerLimits ceiling);

  // Called after each step that carried decodes, with its duration and the queue sizes; returns
  // the limits for the next step.
  SchedulerLimits update(double step_seconds, int32_t n_running, int32_t n_waiting);
  const SchedulerLimits& limits() const { return limits_; }
  double smoothed_seconds() const { return ema_; }

 private:
  double target_;
  SchedulerLimits ceiling_;
  SchedulerLimits limits_;
  double ema_ = 0;
};

}  // namespace kestrel::engine
