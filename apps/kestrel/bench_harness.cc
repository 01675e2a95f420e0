#include "bench_harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::app {

namespace {
// Blocks for n_ctx tokens in all, plus one partly filled block per sequence.
int32_t blocks_for(int32_t n_ctx, int32_t max_seqs, int32_t block) {
  return (n_ctx + block - 1) / block + max_seqs;
}
}  // namespace

BenchSession::BenchSession(model::Model& model, int32_t n_ctx, int32_t max_seqs, uint32_t seed)
    : model_(model),
      n_ctx_(n_ctx),
      kv_(blocks_for(n_ctx, max_seqs, kBlock), kBlock),
      storage_(model.hparams().n_layer,
               static_cast<int64_t>(blocks_for(n_ctx, max_seqs, kBlock)) * kBlock,
               model.hparams().kv_row()),
      rng_(seed),
      logits_(static_cast<size_t>(model.hparams().n_vocab) * max_seqs),
      positions_(std::max<int64_t>(model.max_batch(), max_seqs)),
      seq_of_token_(positions_.size(), 0),
      slots_(positions_.size()),
      logit_rows_(max_seqs),
      views_(max_seqs) {}

std::vector<int32_t> BenchSession::random_tokens(int32_t n, bool bos_first) {
  std::uniform_int_distribution<int32_t> dist(0, model_.hparams().n_vocab - 1);
  std::vector<int32_t> tokens(n);
  for (int32_t& t : tokens) t = dist(rng_);
  const tokenizer::Tokenizer& tok = model_.tokenizer();
  if (bos_first && n > 0 && tok.add_bos() && tok.bos() >= 0) tokens[0] = tok.bos();
  return tokens;
}

void BenchSession::feed(const std::vector<int32_t>& tokens, kv::SeqId seq) {
  const kv::SeqId kSeq = seq;
  const int64_t chunk = model_.max_batch();
  const int64_t n = static_cast<int64_t>(tokens.size());
  std::vector<int32_t>& positions = positions_;
  std::vector<int32_t>& seq_of_token = seq_of_token_;
  std::vector<int32_t>& slots = slots_;
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const auto m = static_cast<int32_t>(std::min(chunk, n - i0));
    const int32_t pos0 = kv_.seq_len(kSeq);
    KESTREL_CHECK(kv_.allocate(kSeq, m), "bench: KV cache of ", n_ctx_, " tokens is full");
    kv_.slots(kSeq, pos0, m, slots.data());
    std::iota(positions.begin(), positions.begin() + m, pos0);
    const std::vector<int32_t>& table = kv_.block_table(kSeq);
    const backend::SeqKvView view{table.data(), static_cast<int32_t>(table.size())};
    std::fill_n(seq_of_token.begin(), m, 0);
    const int32_t last = m - 1;
    model::BatchView b;
    b.n_tokens = m;
    b.token_ids = tokens.data() + i0;
    b.positions = positions.data();
    b.seq_of_token = seq_of_token.data();
    b.slots = slots.data();
    b.n_seqs = 1;
    b.seqs = &view;
    b.block_size = kBlock;
    b.n_logits = 1;
    b.logit_rows = &last;
    model_.forward(b, storage_, logits_.data());
  }
}

void BenchSession::step(const int32_t* ids) {
  const int32_t n = n_seqs_;
  for (int32_t s = 0; s < n; ++s) {
    const int32_t pos = kv_.seq_len(s);
    KESTREL_CHECK(kv_.allocate(s, 1), "bench: KV cache of ", n_ctx_, " tokens is full");
    kv_.slots(s, pos, 1, slots_.data() + s);
    positions_[s] = pos;
    seq_of_token_[s] = s;
    logit_rows_[s] = s;
    const std::vector<int32_t>& table = kv_.block_table(s);
    views_[s] = {table.data(), static_cast<int32_t>(table.size())};
  }
  model::BatchView b;
  b.n_tokens = n;
  b.token_ids = ids;
  b.positions = positions_.data();
  b.seq_of_token = seq_of_token_.data();
  b.slots = slots_.data();
  b.n_seqs = n;
  b.seqs = views_.data();
  b.block_size = kBlock;
  b.n_logits = n;
  b.logit_rows = logit_rows_.data();
  model_.forward(b, storage_, logits_.data());
}

void BenchSession::set_depth(int32_t depth, int32_t n_seqs) {
  KESTREL_CHECK(depth >= 0 && int64_t{depth} * n_seqs <= n_ctx_, "bench: depth ", depth, " x ",
                n_seqs, " sequences outside the context");
  KESTREL_CHECK(n_seqs >= 1 && n_seqs <= static_cast<int32_t>(views_.size()), "bench: ", n_seqs,
                " sequences");
  if (depth != depth_) {  // refill everything
    for (int32_t s = 0; s < n_seqs_; ++s) kv_.free(s);
    n_seqs_ = 0;
    depth_ = depth;
  }
  for (int32_t s = n_seqs_; s < n_seqs; ++s) {
    kv_.allocate(s, 0);
    feed(random_tokens(depth, /*bos_first=*/true), s);
  }
  for (int32_t s = n_seqs; s < n_seqs_; ++s) kv_.free(s);
  n_seqs_ = n_seqs;
}

void BenchSession::reset_to_depth() {
  KESTREL_CHECK(depth_ >= 0, "bench: set_depth first");
  for (int32_t s = 0; s < n_seqs_; ++s) kv_.truncate(s, depth_);
}

double BenchSession::run(BenchKind kind, int32_t n_tokens) {
  KESTREL_CHECK(kind == BenchKind::kGenerate || n_seqs_ == 1, "bench: pp runs on one sequence");
  reset_to_depth();
  using Clock = std::chrono::steady_clock;
  double seconds = 0;
  if (kind == BenchKind::kPrompt) {
    const std::vector<int32_t> tokens = random_tokens(n_tokens, /*bos_first=*/depth_ == 0);
    const auto t0 = Clock::now();
    feed(tokens);
    seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  } else {
    // One token per sequence per step, as a decode loop does; the ids are drawn up front so that
    // only the forward passes are timed.
    const std::vector<int32_t> tokens = random_tokens(n_tokens * n_seqs_, /*bos_first=*/false);
    const auto t0 = Clock::now();
    for (int32_t i = 0; i < n_tokens; ++i) step(tokens.data() + int64_t{i} * n_seqs_);
    seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }
  return seconds;
}

BenchStats summarize(const std::vector<double>& seconds, int32_t n_tokens) {
  BenchStats s;
  const auto n = static_cast<double>(seconds.size());
  if (seconds.empty()) return s;
  auto mean_sd = [&](auto value, double& mean, double& sd) {
    double sum = 0;
    for (double x : seconds) sum += value(x);
    mean = sum / n;
    double sq = 0;
    for (double x : seconds) sq += (value(x) - mean) * (value(x) - mean);
    sd = seconds.size() > 1 ? std::sqrt(sq / (n - 1)) : 0.0;
  };
  mean_sd([&](double x) { return n_tokens / x; }, s.avg_ts, s.stddev_ts);
  mean_sd([](double x) { return x * 1e9; }, s.avg_ns, s.stddev_ns);
  return s;
}

}  // namespace kestrel::app
