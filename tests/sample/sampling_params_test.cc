#include "sample/sampling_params.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "core/error.h"

namespace kestrel::sample {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// validate() throws kestrel::Error whose message names `field`.
void expect_rejected(const std::function<void(SamplingParams&)>& edit, const std::string& field) {
  SamplingParams p;
  edit(p);
  try {
    p.validate();
    ADD_FAILURE() << "accepted a bad " << field;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(SamplingParams, DefaultsMatchLlamaCppAndAreValid) {
  SamplingParams p;
  EXPECT_FLOAT_EQ(p.temperature, 0.8f);
  EXPECT_EQ(p.top_k, 40);
  EXPECT_FLOAT_EQ(p.top_p, 0.95f);
  EXPECT_FLOAT_EQ(p.min_p, 0.05f);
  EXPECT_FLOAT_EQ(p.repeat_penalty, 1.0f);
  EXPECT_EQ(p.repeat_last_n, 64);
  EXPECT_NO_THROW(p.validate());
}

TEST(SamplingParams, AcceptsBoundaries) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.repeat_last_n = -1;
  p.frequency_penalty = -2.0f;  // negative penalties encourage repetition; allowed as in llama.cpp
  p.presence_penalty = 2.0f;
  EXPECT_NO_THROW(p.validate());
  p.min_p = 1.0f;
  EXPECT_NO_THROW(p.validate());
}

TEST(SamplingParams, RejectsEachBadField) {
  expect_rejected([](auto& p) { p.temperature = -0.1f; }, "temperature");
  expect_rejected([](auto& p) { p.temperature = kNaN; }, "temperature");
  expect_rejected([](auto& p) { p.temperature = kInf; }, "temperature");
  expect_rejected([](auto& p) { p.top_k = -1; }, "top_k");
  expect_rejected([](auto& p) { p.top_p = 0.0f; }, "top_p");
  expect_rejected([](auto& p) { p.top_p = 1.01f; }, "top_p");
  expect_rejected([](auto& p) { p.top_p = kNaN; }, "top_p");
  expect_rejected([](auto& p) { p.min_p = -0.01f; }, "min_p");
  expect_rejected([](auto& p) { p.min_p = 1.5f; }, "min_p");
  expect_rejected([](auto& p) { p.min_p = kNaN; }, "min_p");
  expect_rejected([](auto& p) { p.repeat_penalty = 0.0f; }, "repeat_penalty");
  expect_rejected([](auto& p) { p.repeat_penalty = kNaN; }, "repeat_penalty");
  expect_rejected([](auto& p) { p.repeat_penalty = kInf; }, "repeat_penalty");
  expect_rejected([](auto& p) { p.repeat_last_n = -2; }, "repeat_last_n");
  expect_rejected([](auto& p) { p.frequency_penalty = kNaN; }, "frequency_penalty");
  expect_rejected([](auto& p) { p.frequency_penalty = -kInf; }, "frequency_penalty");
  expect_rejected([](auto& p) { p.presence_penalty = kInf; }, "presence_penalty");
}

}  // namespace
}  // namespace kestrel::sample
