// The CPU backend's Ops, parallelized over a thread pool, calling the kernels
// of one ISA (kernel_table.h; chosen by select_isa() unless given). Matrix
// products convert activations once per call to the weight's dot-product format
// and then walk the weight rows, each read once for all activation rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/cpu/kernel_table.h"
#include "backend/ops.h"
#include "core/thread_pool.h"

namespace kestrel::backend {

class CpuOps final : public Ops {
 public:
  explicit CpuOps(ThreadPool& pool, Isa isa = select_isa());

  const char* name() const override { return name_.c_str(); }
  const KernelTable& kernels() const { return kernels_; }
  void embed(const WeightMatrix& table, const int32_t* ids, int64_t n, float scale,
             float* out) override;
  void rms_norm(const float* x, const float* w, float* y, int64_t n_rows, int64_t dim,
                float eps) override;
  void matmul(const WeightMatrix& w, const float* x, int64_t n_rows, float* y,
              const float* bias) override;
  size_t prepare_weight(WeightMatrix& w) override;
  void matmul_shared(const WeightMatrix* const* ws, int count, const float* x, int64_t n_rows,
                     float* const* ys, const float* const* biases) override;
  void rope(float* x, const int32_t* positions, int64_t n_tokens, int n_heads, int head_dim,
            int n_rot, float freq_base, RopeStyle style) override;
  void write_kv(const float* k, const float* v, const int32_t* slots, int64_t n_tokens, int64_t row,
                uint16_t* k_cache, uint16_t* v_cache) override;
  void attention(const AttentionArgs& args) override;
  void glu(const float* gate, const float* up, float* out, int64_t n, Activation act) override;
  void add(float* x, const float* y, int64_t n) override;

 private:
  ThreadPool& pool_;
  // Repacked weight copies (prepare_weight), alive as long as this object.
  std::vector<std::vector<uint8_t>> packed_weights_;
  const KernelTable& kernels_;
  std::string name_;
  // Activations converted to the weights' dot-product formats (one region per
  // distinct format in a call). Grows to the largest need seen, then is reused:
  // no allocation in steady state.
  std::vector<uint8_t> act_scratch_;
  // Attention work items and per-thread tiles (attention.cc), grown to the
  // largest need seen.
  struct AttentionItem {
    int64_t t0;  // first token (batch index)
    int32_t nt;  // consecutive tokens of one sequence
    int32_t hk;  // KV head
  };
  std::vector<AttentionItem> items_;
  std::vector<float> attn_scratch_;
};

}  // namespace kestrel::backend
