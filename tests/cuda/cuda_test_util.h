// Shared by the CUDA tests: the skip-without-GPU fixture, random data, host<->device helpers.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/device.h"

namespace kestrel::backend::cuda {

inline std::vector<float> random_vector(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Every CUDA test derives from this: it skips (does not fail) where no GPU is present, so the
// suite builds and runs in CI on CPU-only machines.
class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (device_count() == 0) GTEST_SKIP() << "no CUDA device";
  }
};

}  // namespace kestrel::backend::cuda
