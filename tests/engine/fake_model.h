// A model without weights for engine tests: forward() writes each token's id and position into the
// paged KV storage at its slot, and the next-token logits of a row are a one-hot of a hash of the
// whole context read back through the sequence's block table. So a generation is right only if
// every earlier k/v landed in the right slot and the block tables (shared prefix blocks, blocks
// re-allocated after preemption or eviction) point at the right memory; reference() computes the
// same tokens without any cache.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace kestrel::engine::testing {

class FakeModel : public model::Model {
 public:
  static constexpr int32_t kVocab = 200;
  static constexpr int32_t kEos = 0;

  explicit FakeModel(int64_t max_batch = 512) : max_batch_(max_batch) {
    hp_.arch = "fake";
    hp_.n_vocab = kVocab;
    hp_.n_layer = 1;
    hp_.n_head = 1;
    hp_.n_head_kv = 1;
    hp_.head_dim = 2;
    tokenizer::VocabData d;
    d.model = "gpt2";
    d.pre = "gpt-2";
    d.tokens.push_back("<|endoftext|>");
    d.token_types.push_back(3);
    for (int32_t i = 1; i < kVocab; ++i) {
      d.tokens.push_back("w" + std::to_string(i));
      d.token_types.push_back(1);
    }
    d.merges = {"w 1"};
    d.bos_id = kEos;
    d.eos_id = kEos;
    tok_ = tokenizer::Tokenizer::from_vocab_data(std::move(d));
  }

  // The token that follows ctx; eos when eos_every > 0 and the hash says so.
  static int32_t next_token(const std::vector<int32_t>& ctx, int32_t eos_every = 0) {
    uint64_t h = 1469598103934665603ull;
    for (int32_t t : ctx) h = (h ^ static_cast<uint64_t>(t)) * 1099511628211ull;
    h ^= h >> 29;
    if (eos_every > 0 && h % eos_every == 0) return kEos;
    return 1 + static_cast<int32_t>(h % (kVocab - 1));
  }
  // Greedy generation of up to n tokens after prompt, without any cache.
  static std::vector<int32_t> reference(std::vector<int32_t> ctx, int32_t n, int32_t eos_every = 0) {
    std::vector<int32_t> out;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t t = next_token(ctx, eos_every);
      out.push_back(t);
      ctx.push_back(t);
      if (t == kEos) break;
    }
    return out;
  }

  const model::HParams& hparams() const override { return hp_; }
  const io::GgufFile& gguf() const override { throw std::logic_error("fake model has no file"); }
  const tokenizer::Tokenizer& tokenizer() const override { return *tok_; }
  int64_t max_batch() const override { return max_batch_; }

  void forward(const model::BatchView& b, backend::KvStorage& kv, float* logits) override {
    if (b.n_tokens <= 0 || b.n_tokens > max_batch_) throw std::logic_error("bad batch size");
    ++calls;
    tokens_computed += b.n_tokens;
    max_tokens_per_call = std::max(max_tokens_per_call, b.n_tokens);
    uint16_t* k = kv.k(0);
    uint16_t* v = kv.v(0);
    for (int64_t i = 0; i < b.n_tokens; ++i) {
      if (b.slots[i] < 0 || b.slots[i] >= kv.n_slots()) throw std::logic_error("slot out of range");
      k[b.slots[i] * 2] = static_cast<uint16_t>(b.token_ids[i]);
      v[b.slots[i] * 2] = static_cast<uint16_t>(b.positions[i]);
    }
    for (int64_t r = 0; r < b.n_logits; ++r) {
      const int32_t row = b.logit_rows[r];
      const backend::SeqKvView& sv = b.seqs[b.seq_of_token[row]];
      std::vector<int32_t> ctx;
      for (int32_t p = 0; p <= b.positions[row]; ++p) {
        const int32_t blk = p / b.block_size;
        if (blk >= sv.n_blocks) throw std::logic_error("position past the block table");
        const int64_t slot = static_cast<int64_t>(sv.block_table[blk]) * b.block_size + p % b.block_size;
        if (v[slot * 2] != p) ++kv_mismatches;  // the slot holds another position's k/v
        ctx.push_back(k[slot * 2]);
      }
      float* out = logits + r * kVocab;
      std::fill(out, out + kVocab, 0.0f);
      out[next_token(ctx, eos_every)] = 10.0f;
    }
  }

  int32_t eos_every = 0;
  int64_t calls = 0;
  int64_t tokens_computed = 0;
  int64_t max_tokens_per_call = 0;
  int64_t kv_mismatches = 0;

 private:
  model::HParams hp_;
  std::unique_ptr<tokenizer::Tokenizer> tok_;
  int64_t max_batch_;
};

}  // namespace kestrel::engine::testing
