// The device-resident decoder against the CPU decoder on the real models, teacher-forced over the
// same tokens: once as one prompt batch (tensor-core products, eager launches) and once a token at
// a time (mat-vec kernels, CUDA graph replays). Agreement is judged like the llama.cpp goldens
// (docs/correctness.md): the top-1 token must agree wherever the CPU's top-1 leads its runner-up by
// at least kNearTie, and the logits and distributions must stay within llama.cpp's own spread
// between its batch sizes (max 1.35 / mean 0.36 abs logit diff on the top-16).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "cuda/cuda_test_util.h"
#include "engine/evaluate.h"
#include "model/device/cuda_decoder_model.h"
#include "model/model.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace kestrel {
namespace {

constexpr double kNearTie = 1.0;
constexpr double kMaxTop16Diff = 2.0;    // the CPU-vs-llama.cpp maximum was 1.93 (gemma3)
constexpr double kMeanTop16Diff = 0.4;   // llama.cpp's own batch-size spread: mean 0.36
constexpr double kMeanKl = 0.02;         // nats, averaged over positions
constexpr double kMaxKl = 0.2;

constexpr const char* kText =
    "The history of the printing press begins in the fifteenth century, when Johannes Gutenberg "
    "combined movable metal type, oil-based ink and a wooden press adapted from wine making. "
    "Within fifty years, presses were running in more than two hundred European cities, and the "
    "price of books fell so far that reading spread from monasteries and universities to "
    "merchants and craftsmen. Scholars argue about how much the press caused the Reformation and "
    "the scientific revolution, but few doubt that it changed how ideas travelled.";

struct DecoderCase {
  const char* name;
  std::string (*path)();
};
void PrintTo(const DecoderCase& c, std::ostream* os) { *os << c.name; }

std::vector<float> log_softmax(const float* x, int64_t n) {
  const float m = *std::max_element(x, x + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(double(x[i]) - m);
  const double lse = m + std::log(sum);
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(x[i] - lse);
  return out;
}

class CudaDecoderTest : public backend::cuda::CudaTest,
                        public ::testing::WithParamInterface<DecoderCase> {};

TEST_P(CudaDecoderTest, TeacherForcedLogitsAgreeWithCpu) {
  const std::string path = GetParam().path();
  // With a GPU present a missing model is a failure, not a skip: this is the test that verifies
  // the backend end to end (bench/cuda/README.md says how to bring the models along).
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " not found (set KESTREL_MODELS)";
  std::unique_ptr<model::Model> cpu = model::Model::load(path, model::ModelOptions{});
  std::unique_ptr<model::Model> gpu = model::load_cuda_model(path, model::CudaModelOptions{});
  model::CudaModelOptions eager_options;
  eager_options.use_graphs = false;
  std::unique_ptr<model::Model> eager = model::load_cuda_model(path, eager_options);
  const std::vector<int32_t> tokens = cpu->tokenizer().encode(kText, true, false);
  ASSERT_GT(tokens.size(), 64u);
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t n_vocab = cpu->hparams().n_vocab;

  std::vector<float> want(n * n_vocab);
  engine::evaluate_logits(*cpu, tokens, 512, [&](int64_t pos, const float* l) {
    std::copy(l, l + n_vocab, want.begin() + pos * n_vocab);
  });

  // The whole text in one batch (tensor-core products) and a token at a time (mat-vec kernels),
  // both from captured graphs; then chunks of 7 (mat-vec on 7 rows at once) launched eagerly.
  struct Run {
    model::Model* m;
    int64_t chunk;
  };
  for (const Run& run : {Run{gpu.get(), 512}, Run{gpu.get(), 1}, Run{eager.get(), 7}}) {
    const int64_t chunk = run.chunk;
    std::vector<float> got(n * n_vocab);
    engine::evaluate_logits(*run.m, tokens, chunk, [&](int64_t pos, const float* l) {
      std::copy(l, l + n_vocab, got.begin() + pos * n_vocab);
    });
    int decided = 0, agree = 0;
    double max_diff = 0, sum_diff = 0, sum_kl = 0, max_kl = 0;
    int64_t n_diff = 0;
    for (int64_t p = 0; p < n; ++p) {
      const float* w = want.data() + p * n_vocab;
      const float* g = got.data() + p * n_vocab;
      std::vector<int32_t> order(n_vocab);
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + 16, order.end(),
                        [&](int32_t a, int32_t b) { return w[a] > w[b]; });
      for (int i = 0; i < 16; ++i) {
        const double d = std::fabs(double(w[order[i]]) - g[order[i]]);
        max_diff = std::max(max_diff, d);
        sum_diff += d;
        ++n_diff;
      }
      if (w[order[0]] - w[order[1]] >= kNearTie) {
        ++decided;
        agree += std::max_element(g, g + n_vocab) - g == order[0];
      }
      const std::vector<float> lw = log_softmax(w, n_vocab), lg = log_softmax(g, n_vocab);
      double kl = 0;
      for (int64_t i = 0; i < n_vocab; ++i) kl += std::exp(double(lw[i])) * (lw[i] - lg[i]);
      sum_kl += kl;
      max_kl = std::max(max_kl, kl);
    }
    const double mean_diff = sum_diff / n_diff, mean_kl = sum_kl / n;
    std::printf("[%s chunk %lld] top-1 agreement %d/%d on positions without a near tie; top-16 "
                "abs logit diff max %.3f mean %.3f; KL(cpu||gpu) mean %.5f max %.5f\n",
                GetParam().name, static_cast<long long>(chunk), agree, decided, max_diff,
                mean_diff, mean_kl, max_kl);
    EXPECT_GT(decided, 0);
    EXPECT_EQ(agree, decided) << "chunk " << chunk;
    EXPECT_LE(max_diff, kMaxTop16Diff) << "chunk " << chunk;
    EXPECT_LE(mean_diff, kMeanTop16Diff) << "chunk " << chunk;
    EXPECT_LE(mean_kl, kMeanKl) << "chunk " << chunk;
    EXPECT_LE(max_kl, kMaxKl) << "chunk " << chunk;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, CudaDecoderTest,
                         ::testing::Values(DecoderCase{"smollm2", testing::smollm2_path},
                                           DecoderCase{"gemma3", testing::gemma3_path}),
                         [](const auto& info) { return std::string(info.param.name); });

using CudaDecoderInputTest = backend::cuda::CudaTest;

TEST_F(CudaDecoderInputTest, RejectsOutOfRangeTokenWithoutCrashing) {
  const std::string path = testing::smollm2_path();
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " not found (set KESTREL_MODELS)";
  std::unique_ptr<model::Model> gpu = model::load_cuda_model(path, model::CudaModelOptions{});
  const std::vector<int32_t> bad = {1, gpu->hparams().n_vocab};
  EXPECT_THROW(engine::evaluate_logits(*gpu, bad, 8, [](int64_t, const float*) {}), Error);
  // Still usable afterwards.
  const std::vector<int32_t> good = {1, 2, 3};
  int calls = 0;
  engine::evaluate_logits(*gpu, good, 8, [&](int64_t, const float*) { ++calls; });
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace kestrel
