// End-to-end agreement with llama.cpp on the real models: greedy continuations token for token,
// and teacher-forced next-token logits (goldens from tests/golden/generation/generate.py).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>

#include "engine/engine.h"
#include "engine/evaluate.h"
#include "model/model.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"

namespace kestrel {
namespace {

using nlohmann::json;

// llama.cpp does not agree with itself to better than this: the same model and tokens evaluated
// with micro-batches of 1 and of 512 move its logits by up to 1.35 (mean 0.36) on SmolLM2-135M
// Q4_1 and flip 3.4% of its top-1 choices (docs/correctness.md). A top-1/top-2 margin below this
// is a near tie that kernel summation order alone can flip.
constexpr double kNearTie = 1.0;

json read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return json::parse(in);
}

struct ModelCase {
  const char* name;
  std::string (*path)();
};

class GoldenGeneration : public ::testing::TestWithParam<ModelCase> {
 protected:
  static model::Model& load(const ModelCase& c) {
    static std::map<std::string, std::unique_ptr<model::Model>> cache;
    auto& slot = cache[c.name];
    if (!slot) slot = model::Model::load(c.path(), model::ModelOptions{});
    return *slot;
  }
};

TEST_P(GoldenGeneration, GreedyMatchesLlamaCpp) {
  const ModelCase& c = GetParam();
  model::Model& m = load(c);
  const json golden = read_json(testing::golden_dir() + "/generation/" + c.name + "_greedy.json");
  int identical = 0;
  for (const json& tc : golden["cases"]) {
    const std::string prompt = tc["prompt"];
    const auto want_prompt = tc["prompt_tokens"].get<std::vector<int32_t>>();
    const auto want = tc["output_tokens"].get<std::vector<int32_t>>();
    const auto runner_up = tc["runner_up"].get<std::vector<int32_t>>();
    const auto margins = tc["margins"].get<std::vector<double>>();
    const std::vector<int32_t> prompt_tokens = m.tokenizer().encode(prompt, true, true);
    ASSERT_EQ(prompt_tokens, want_prompt) << "prompt tokenization differs: " << prompt;

    engine::EngineOptions opts;
    opts.n_ctx = 256;
    engine::Engine eng(m, opts);
    engine::GenerationRequest req;
    req.prompt = prompt_tokens;
    req.sampling.temperature = 0.0f;
    req.max_tokens = golden["n_predict"];
    std::vector<int32_t> got;
    eng.add(req, [&](engine::SeqId, int32_t tok, engine::FinishReason) {
      if (tok >= 0) got.push_back(tok);
    });
    eng.run_until_idle();
    size_t first_diff = 0;
    while (first_diff < std::min(got.size(), want.size()) && got[first_diff] == want[first_diff]) {
      ++first_diff;
    }
    identical += (got == want);
    if (got == want) continue;
    // A divergence is only acceptable at a near tie of the reference.
    ASSERT_LT(first_diff, want.size()) << c.name << ": stopped early on " << json(prompt).dump();
    ASSERT_LT(first_diff, got.size()) << c.name << ": stopped early on " << json(prompt).dump();
    std::printf("[ %s ] %s: diverges at token %zu, reference margin %.3f\n", c.name,
                json(prompt).dump().c_str(), first_diff, margins[first_diff]);
    EXPECT_LT(margins[first_diff], kNearTie)
        << c.name << ": " << json(prompt).dump() << " diverges at token " << first_diff
        << " where llama.cpp's choice was clear";
    std::printf("[ %s ]   took %d where llama.cpp took %d (its runner-up: %d)\n", c.name,
                got[first_diff], want[first_diff], runner_up[first_diff]);
  }
  std::printf("[ %s ] greedy: %d of %zu continuations identical to llama.cpp\n", c.name,
              identical, golden["cases"].size());
}

TEST_P(GoldenGeneration, TeacherForcedLogitsAgree) {
  const ModelCase& c = GetParam();
  model::Model& m = load(c);
  const json golden = read_json(testing::golden_dir() + "/generation/" + c.name + "_logits.json");
  const auto tokens = golden["tokens"].get<std::vector<int32_t>>();
  const json& top = golden["top"];
  int64_t agree = 0;
  int64_t clear = 0;        // positions where llama.cpp's top-1 leads by at least kNearTie
  int64_t clear_agree = 0;
  double max_diff = 0;
  double sum_diff = 0;
  int64_t n_diff = 0;
  engine::evaluate_logits(m, tokens, 128, [&](int64_t pos, const float* logits) {
    const int32_t n_vocab = m.hparams().n_vocab;
    const int32_t ours = static_cast<int32_t>(std::max_element(logits, logits + n_vocab) - logits);
    const json& row = top[pos];
    const bool same = ours == row["ids"][0].get<int32_t>();
    agree += same;
    if (row["logits"][0].get<double>() - row["logits"][1].get<double>() >= kNearTie) {
      ++clear;
      clear_agree += same;
    }
    for (size_t i = 0; i < row["ids"].size(); ++i) {
      const double d = std::fabs(logits[row["ids"][i].get<int32_t>()] - row["logits"][i].get<double>());
      max_diff = std::max(max_diff, d);
      sum_diff += d;
      ++n_diff;
    }
  });
  const double agreement = static_cast<double>(agree) / tokens.size();
  const double clear_agreement = static_cast<double>(clear_agree) / clear;
  const double mean_diff = sum_diff / n_diff;
  std::printf("[ %s ] teacher-forced over %zu positions: top-1 agreement %.4f (%.4f on the %lld "
              "positions without a near tie), |logit diff| on llama.cpp's top-16: max %.4f, "
              "mean %.4f\n",
              c.name, tokens.size(), agreement, clear_agreement, static_cast<long long>(clear),
              max_diff, mean_diff);
  EXPECT_GE(clear_agreement, 0.99);
  EXPECT_GE(agreement, 0.93);
  // Bounds from the measured figures (docs/correctness.md), at about 1.5x what we measured; the
  // mean is llama.cpp's own batch-1 vs batch-512 spread (0.36) plus headroom.
  EXPECT_LT(mean_diff, 0.6);
  EXPECT_LT(max_diff, 4.5);
}

INSTANTIATE_TEST_SUITE_P(Models, GoldenGeneration,
                         ::testing::Values(ModelCase{"smollm2", testing::smollm2_path},
                                           ModelCase{"gemma3", testing::gemma3_path}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace kestrel
