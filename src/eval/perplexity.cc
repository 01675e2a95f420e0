#include "eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "eval/sequence_runner.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::eval {
namespace {

// max and log(sum exp(l - max)) of a row, in double.
void log_sum_exp(const float* l, int64_t n, double* max_out, double* lse_out, int32_t* argmax) {
  float mx = l[0];
  int32_t am = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (l[i] > mx) {
      mx = l[i];
      am = static_cast<int32_t>(i);
    }
  }
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(l[i]) - mx);
  *max_out = mx;
  *lse_out = std::log(sum);
  if (argmax != nullptr) *argmax = am;
}

struct Accumulator {
  double nll = 0, nll2 = 0, base_nll = 0, kl = 0, kl2 = 0;
  int64_t n = 0, agree = 0;
  std::vector<float> kls;
};

}  // namespace

double token_nll(const float* logits, int64_t n, int32_t target) {
  double mx, lse;
  log_sum_exp(logits, n, &mx, &lse, nullptr);
  return -(static_cast<double>(logits[target]) - mx - lse);
}

double kl_divergence(const float* p_logits, const float* q_logits, int64_t n, int32_t* p_argmax,
                     int32_t* q_argmax) {
  double pm, plse, qm, qlse;
  log_sum_exp(p_logits, n, &pm, &plse, p_argmax);
  log_sum_exp(q_logits, n, &qm, &qlse, q_argmax);
  double kl = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double lp = p_logits[i] - pm - plse;
    const double lq = q_logits[i] - qm - qlse;
    kl += std::exp(lp) * (lp - lq);
  }
  return std::max(0.0, kl);  // rounding can make an exact zero slightly negative
}

std::vector<int32_t> perplexity_tokens(const model::Model& model, const std::string& text) {
  return model.tokenizer().encode(text, /*add_special=*/true, /*parse_special=*/false);
}

PerplexityResult compute_perplexity(model::Model& model, model::Model* base,
                                    const std::vector<int32_t>& tokens,
                                    const PerplexityOptions& o,
                                    const PerplexityProgress& progress) {
  const int32_t n_ctx = o.n_ctx;
  KESTREL_CHECK(n_ctx >= 16 && n_ctx % 2 == 0, "perplexity: context ", n_ctx,
                " must be even and at least 16");
  const int64_t n_tokens = static_cast<int64_t>(tokens.size());
  KESTREL_CHECK(n_tokens >= 2 * static_cast<int64_t>(n_ctx), "perplexity: the text has ", n_tokens,
                " tokens; at least 2 * n_ctx = ", 2 * static_cast<int64_t>(n_ctx), " are needed");
  const int64_t n_vocab = model.hparams().n_vocab;
  if (base != nullptr) {
    KESTREL_CHECK(base->hparams().n_vocab == n_vocab, "perplexity: base vocabulary of ",
                  base->hparams().n_vocab, " tokens, model ", n_vocab);
  }
  int32_t n_chunks = static_cast<int32_t>(n_tokens / n_ctx);
  if (o.max_chunks > 0) n_chunks = std::min(n_chunks, o.max_chunks);
  int64_t batch = o.n_batch > 0 ? o.n_batch : model.max_batch();
  batch = std::min<int64_t>({batch, n_ctx, model.max_batch()});
  if (base != nullptr) batch = std::min<int64_t>(batch, base->max_batch());

  const tokenizer::Tokenizer& tok = model.tokenizer();
  const bool add_bos = tok.add_bos() && tok.bos() >= 0;
  SequenceRunner run(model, n_ctx);
  std::unique_ptr<SequenceRunner> run_base;
  if (base != nullptr) run_base = std::make_unique<SequenceRunner>(*base, n_ctx);

  PerplexityResult r;
  r.n_ctx = n_ctx;
  r.n_text_tokens = n_tokens;
  r.has_base = base != nullptr;
  Accumulator acc;
  const int32_t first = n_ctx / 2;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<int32_t> chunk(n_ctx);
  for (int32_t c = 0; c < n_chunks; ++c) {
    std::copy(tokens.begin() + static_cast<int64_t>(c) * n_ctx,
              tokens.begin() + static_cast<int64_t>(c + 1) * n_ctx, chunk.begin());
    if (add_bos) chunk[0] = tok.bos();
    run.reset();
    if (run_base) run_base->reset();
    for (int32_t p0 = 0; p0 < n_ctx; p0 += static_cast<int32_t>(batch)) {
      const int32_t m = static_cast<int32_t>(std::min<int64_t>(batch, n_ctx - p0));
      const float* lg = run.feed(chunk.data() + p0, m);
      const float* lb = run_base ? run_base->feed(chunk.data() + p0, m) : nullptr;
      for (int32_t i = 0; i < m; ++i) {
        const int32_t j = p0 + i;
        if (j < first || j >= n_ctx - 1) continue;
        const int32_t target = chunk[j + 1];
        const float* row = lg + static_cast<int64_t>(i) * n_vocab;
        const double nll = token_nll(row, n_vocab, target);
        acc.nll += nll;
        acc.nll2 += nll * nll;
        ++acc.n;
        if (lb != nullptr) {
          const float* brow = lb + static_cast<int64_t>(i) * n_vocab;
          int32_t pa, qa;
          const double kl = kl_divergence(brow, row, n_vocab, &pa, &qa);
          acc.kl += kl;
          acc.kl2 += kl * kl;
          acc.kls.push_back(static_cast<float>(kl));
          acc.agree += pa == qa;
          acc.base_nll += token_nll(brow, n_vocab, target);
        }
      }
    }
    r.n_chunks = c + 1;
    r.n_scored = acc.n;
    r.nll = acc.nll / acc.n;
    r.ppl = std::exp(r.nll);
    r.chunk_ppl.push_back(r.ppl);
    if (progress) progress(c + 1, n_chunks, r);
  }
  const double n = static_cast<double>(acc.n);
  r.nll_stderr = acc.n > 1 ? std::sqrt(std::max(0.0, acc.nll2 / n - r.nll * r.nll) / (n - 1)) : 0;
  if (r.has_base) {
    r.base_nll = acc.base_nll / n;
    r.base_ppl = std::exp(r.base_nll);
    r.kl_mean = acc.kl / n;
    r.kl_stderr =
        acc.n > 1 ? std::sqrt(std::max(0.0, acc.kl2 / n - r.kl_mean * r.kl_mean) / (n - 1)) : 0;
    std::sort(acc.kls.begin(), acc.kls.end());
    r.kl_p99 = acc.kls[std::min<size_t>(acc.kls.size() - 1, static_cast<size_t>(0.99 * acc.kls.size()))];
    r.kl_max = acc.kls.back();
    r.top1 = static_cast<double>(acc.agree) / n;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace kestrel::eval
