// The TPOT controller on synthetic step times (a linear cost model of the step), no model.
#include "engine/tpot_controller.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace kestrel::engine {
namespace {

// Step time: 10 ms fixed + 1 ms per decoding sequence + 0.2 ms per prefill token.
double step_time(const SchedulerLimits& l, int32_t running) {
  const int64_t prefill = std::max<int64_t>(0, l.token_budget - running);
  return 0.010 + 0.001 * running + 0.0002 * prefill;
}

TEST(TpotController, ShrinksPrefillUntilStepsMeetTheTarget) {
  TpotController c(0.040, {512, 64});
  SchedulerLimits l = c.limits();
  for (int i = 0; i < 200; ++i) l = c.update(step_time(l, 16), 16, 10);
  EXPECT_LE(step_time(l, 16), 0.040);
  EXPECT_GE(l.token_budget, 16);  // every running sequence still gets its token
  EXPECT_LT(l.token_budget, 512);
  // Not needlessly small: within the additive step of the largest budget that meets the target.
  EXPECT_GT(step_time(l, 16), 0.040 * 0.6);
}

TEST(TpotController, LimitsAdmissionWhenDecodesAloneAreTooSlow) {
  TpotController c(0.020, {512, 64});
  SchedulerLimits l = c.limits();
  for (int i = 0; i < 200; ++i) l = c.update(step_time(l, 40), 40, 20);
  EXPECT_LT(l.max_running, 40);
}

TEST(TpotController, GrowsBackToTheCeilingWhenFast) {
  TpotController c(0.100, {256, 8});
  SchedulerLimits l{};
  for (int i = 0; i < 50; ++i) l = c.update(0.5, 8, 0);  // very slow: shrink
  EXPECT_LT(l.token_budget, 256);
  for (int i = 0; i < 500; ++i) l = c.update(0.01, 8, 5);  // fast again
  EXPECT_EQ(l.token_budget, 256);
  EXPECT_EQ(l.max_running, 8);
  EXPECT_THROW(TpotController(0, {1, 1}), Error);
}

}  // namespace
}  // namespace kestrel::engine
