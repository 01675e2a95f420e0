// One forward step's input: a flat batch of tokens from any number of sequences, each token with
// its sequence and position, over the paged KV cache. Prefill chunks and decode tokens mix freely.
// A plain view: the runner owns the arrays.
#pragma once

#include <cstdint>

#include "backend/ops.h"

namespace kestrel::model {

struct BatchView {
  int64_t n_tokens = 0;
  const int32_t* token_ids = nullptr;     // [n_tokens]
  const int32_t* positions = nullptr;     // [n_tokens] position within its sequence
  const int32_t* seq_of_token = nullptr;  // [n_tokens] index into seqs
  const int32_t* slots = nullptr;         // [n_tokens] KV slot where the token's k and v go
  int32_t n_seqs = 0;
  const backend::SeqKvView* seqs = nullptr;  // [n_seqs] block tables (covering each token's position)
  int32_t block_size = 0;
  int64_t n_logits = 0;
  const int32_t* logit_rows = nullptr;  // [n_logits] token indexes whose next-token logits are wanted
};

}  // namespace kestrel::model
