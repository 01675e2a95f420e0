// Removing whole units from a dense model, by tensor name (any architecture whose blocks use the
// GGUF names blk.N.attn_q/attn_k/attn_v/attn_output/ffn_gate/ffn_up/ffn_down), and the metadata
// that describes them. Callers update the "<arch>.*" keys through the functions below.
#pragma once

#include <cstdint>
#include <vector>

#include "train/dense_model.h"

namespace kestrel::prune {

// Indices of the n_keep largest scores, ascending (ties: lower index kept).
std::vector<int64_t> keep_top(const std::vector<double>& score, int64_t n_keep);

// Keeps FFN channels `keep` (ascending) of layer il: rows of ffn_gate/ffn_up, columns of ffn_down.
void slice_ffn(train::DenseModel& m, int il, const std::vector<int64_t>& keep);
// Keeps query heads `keep` (ascending) of layer il: rows of attn_q (and its bias), columns of
// attn_output. KV heads are untouched.
void slice_heads(train::DenseModel& m, int il, const std::vector<int64_t>& keep, int64_t head_dim);
// Keeps the layers `keep` (ascending), renumbered 0..keep.size()-1; the others' tensors go.
void keep_layers(train::DenseModel& m, const std::vector<int>& keep);

}  // namespace kestrel::prune
