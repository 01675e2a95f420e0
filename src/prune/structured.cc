#include "prune/structured.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/error.h"

namespace kestrel::prune {
namespace {

std::string blk(int il, const char* name) { return "blk." + std::to_string(il) + "." + name; }

// Keeps blocks of `block` consecutive rows: rows keep[i]*block .. keep[i]*block + block - 1.
void slice_rows(train::DenseTensor& t, const std::vector<int64_t>& keep, int64_t block) {
  const int64_t cols = t.ne[0];
  std::vector<float> out;
  out.reserve(keep.size() * block * cols);
  for (int64_t k : keep) {
    KESTREL_CHECK((k + 1) * block <= t.rows(), "prune: row block ", k, " outside '", t.name, "'");
    const float* src = t.data.data() + k * block * cols;
    out.insert(out.end(), src, src + block * cols);
  }
  t.data = std::move(out);
  if (t.n_dims == 1) {
    t.ne[0] = static_cast<int64_t>(keep.size()) * block;
  } else {
    t.ne[1] = static_cast<int64_t>(keep.size()) * block;
  }
}

void slice_cols(train::DenseTensor& t, const std::vector<int64_t>& keep, int64_t block) {
  const int64_t cols = t.ne[0];
  const int64_t new_cols = static_cast<int64_t>(keep.size()) * block;
  std::vector<float> out(t.rows() * new_cols);
  for (int64_t r = 0; r < t.rows(); ++r) {
    const float* src = t.data.data() + r * cols;
    float* dst = out.data() + r * new_cols;
    for (size_t i = 0; i < keep.size(); ++i) {
      KESTREL_CHECK((keep[i] + 1) * block <= cols, "prune: column block outside '", t.name, "'");
      std::copy_n(src + keep[i] * block, block, dst + i * block);
    }
  }
  t.data = std::move(out);
  t.ne[0] = new_cols;
}

}  // namespace

std::vector<int64_t> keep_top(const std::vector<double>& score, int64_t n_keep) {
  KESTREL_CHECK(n_keep >= 0 && n_keep <= static_cast<int64_t>(score.size()),
                "prune: cannot keep ", n_keep, " of ", score.size());
  std::vector<int64_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return score[a] > score[b]; });
  idx.resize(n_keep);
  std::sort(idx.begin(), idx.end());
  return idx;
}

void slice_ffn(train::DenseModel& m, int il, const std::vector<int64_t>& keep) {
  slice_rows(m.get(blk(il, "ffn_gate.weight")), keep, 1);
  slice_rows(m.get(blk(il, "ffn_up.weight")), keep, 1);
  slice_cols(m.get(blk(il, "ffn_down.weight")), keep, 1);
}

void slice_heads(train::DenseModel& m, int il, const std::vector<int64_t>& keep, int64_t head_dim) {
  slice_rows(m.get(blk(il, "attn_q.weight")), keep, head_dim);
  if (train::DenseTensor* b = m.find(blk(il, "attn_q.bias"))) slice_rows(*b, keep, head_dim);
  slice_cols(m.get(blk(il, "attn_output.weight")), keep, head_dim);
}

void keep_layers(train::DenseModel& m, const std::vector<int>& keep) {
  std::vector<train::DenseTensor> out;
  for (train::DenseTensor& t : m.tensors()) {
    if (t.name.rfind("blk.", 0) != 0) {
      out.push_back(std::move(t));
      continue;
    }
    const size_t dot = t.name.find('.', 4);
    KESTREL_CHECK(dot != std::string::npos, "prune: odd tensor name '", t.name, "'");
    const int il = std::stoi(t.name.substr(4, dot - 4));
    const auto it = std::find(keep.begin(), keep.end(), il);
    if (it == keep.end()) continue;
    t.name = "blk." + std::to_string(it - keep.begin()) + t.name.substr(dot);
    out.push_back(std::move(t));
  }
  m.tensors() = std::move(out);
}

}  // namespace kestrel::prune
