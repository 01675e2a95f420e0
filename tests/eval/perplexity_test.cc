#include "eval/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "test_paths.h"

namespace kestrel::eval {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PerplexityScores, TokenNllIsMinusLogSoftmax) {
  const float l[3] = {1.0f, 2.0f, 3.0f};
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(token_nll(l, 3, 0), lse - 1.0, 1e-12);
  EXPECT_NEAR(token_nll(l, 3, 2), lse - 3.0, 1e-12);
  const float big[2] = {1000.0f, 1000.0f};  // no overflow
  EXPECT_NEAR(token_nll(big, 2, 1), std::log(2.0), 1e-12);
}

TEST(PerplexityScores, KlDivergenceMatchesTheDefinition) {
  const float p[3] = {0.5f, 1.5f, -1.0f};
  const float q[3] = {1.0f, 0.0f, 2.0f};
  double zp = 0, zq = 0;
  for (int i = 0; i < 3; ++i) {
    zp += std::exp(static_cast<double>(p[i]));
    zq += std::exp(static_cast<double>(q[i]));
  }
  double want = 0;
  for (int i = 0; i < 3; ++i) {
    const double pp = std::exp(static_cast<double>(p[i])) / zp;
    const double qq = std::exp(static_cast<double>(q[i])) / zq;
    want += pp * std::log(pp / qq);
  }
  int32_t pa, qa;
  EXPECT_NEAR(kl_divergence(p, q, 3, &pa, &qa), want, 1e-12);
  EXPECT_EQ(pa, 1);
  EXPECT_EQ(qa, 2);
  EXPECT_EQ(kl_divergence(p, p, 3, &pa, &qa), 0.0);
  // Shifting logits by a constant changes no probability.
  const float p_shift[3] = {10.5f, 11.5f, 9.0f};
  EXPECT_NEAR(kl_divergence(p, p_shift, 3, &pa, &qa), 0.0, 1e-9);
}

class PerplexityModel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(testing::smollm2_path())) GTEST_SKIP() << "model not fetched";
  }
};

// Each test model's perplexity of gpl3.txt at the n_ctx its entry in GOLDEN_FILE names (at most
// its "chunks" chunks when limit_chunks, else every chunk), passed to check with that entry.
template <class Check>
void for_each_golden_model(const std::string& golden_file, bool limit_chunks, Check check) {
  const nlohmann::json golden =
      nlohmann::json::parse(read(testing::golden_dir() + "/perplexity/" + golden_file));
  const std::string text = read(testing::golden_dir() + "/perplexity/gpl3.txt");
  for (const std::string& path : {testing::smollm2_path(), testing::gemma3_path()}) {
    const std::string name = std::filesystem::path(path).filename().string();
    const nlohmann::json& g = golden.at(name);
    model::ModelOptions mo;
    auto model = model::Model::load(path, mo);
    const std::vector<int32_t> tokens = perplexity_tokens(*model, text);
    PerplexityOptions o;
    o.n_ctx = g.at("n_ctx").get<int32_t>();
    if (limit_chunks) o.max_chunks = g.at("chunks").get<int32_t>();
    check(name, g, tokens, compute_perplexity(*model, nullptr, tokens, o));
  }
}

// llama.cpp's figure (tests/golden/perplexity/generate.py) on the same file, text and chunking.
// The bound is 2.5%: on these short slices (252 and 189 scored tokens of quantized models)
// Kestrel measures 1.65% (SmolLM2) and 0.73% (Gemma 3) away; the per-logit differences behind it
// are those docs/correctness.md explains (activation quantization rounding), and llama.cpp
// differs from itself by as much across batch sizes. docs/compression.md has the full-text figure.
TEST_F(PerplexityModel, AgreesWithLlamaCpp) {
  for_each_golden_model("golden.json", true, [](const std::string& name, const nlohmann::json& g,
                                                const std::vector<int32_t>& tokens,
                                                const PerplexityResult& r) {
    EXPECT_EQ(static_cast<int64_t>(tokens.size()), g.at("n_text_tokens").get<int64_t>()) << name;
    EXPECT_EQ(r.n_scored, g.at("n_scored").get<int64_t>()) << name;
    const double want = g.at("ppl").get<double>();
    EXPECT_NEAR(r.ppl / want, 1.0, 0.025) << name << ": kestrel " << r.ppl << ", llama.cpp " << want;
    EXPECT_FALSE(r.has_base);
  });
}

// The bar: within 0.5% of the figure llama.cpp's own llama-perplexity tool prints for the
// whole text at -c 512 (tests/golden/perplexity/generate_full.py). Measured: SmolLM2 18.3544 vs
// 18.3459 (+0.05%), Gemma 3 13.8904 vs 13.8844 (+0.04%).
TEST_F(PerplexityModel, WholeTextWithinHalfAPercentOfLlamaCppPerplexityTool) {
  for_each_golden_model("golden_full.json", false, [](const std::string& name,
                                                      const nlohmann::json& g,
                                                      const std::vector<int32_t>&,
                                                      const PerplexityResult& r) {
    EXPECT_EQ(r.n_chunks, g.at("chunks").get<int64_t>()) << name;
    const double want = g.at("ppl").get<double>();
    EXPECT_NEAR(r.ppl / want, 1.0, 0.005) << name << ": kestrel " << r.ppl << ", llama.cpp " << want;
  });
}

TEST_F(PerplexityModel, KlAgainstItselfIsZero) {
  model::ModelOptions mo;
  auto model = model::Model::load(testing::smollm2_path(), mo);
  auto base = model::Model::load(testing::smollm2_path(), mo);
  const std::vector<int32_t> tokens =
      perplexity_tokens(*model, read(testing::golden_dir() + "/perplexity/gpl3.txt"));
  PerplexityOptions o;
  o.n_ctx = 64;
  o.max_chunks = 2;
  o.n_batch = 24;  // several batches per chunk, stepped in lockstep
  int calls = 0;
  const PerplexityResult r = compute_perplexity(*model, base.get(), tokens, o,
                                                [&](int32_t, int32_t, const PerplexityResult&) { ++calls; });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(r.n_scored, 2 * 31);
  ASSERT_TRUE(r.has_base);
  EXPECT_EQ(r.kl_mean, 0.0);
  EXPECT_EQ(r.top1, 1.0);
  EXPECT_DOUBLE_EQ(r.base_ppl, r.ppl);
  EXPECT_GT(r.ppl, 1.0);
}

TEST_F(PerplexityModel, RejectsShortTextsAndOddContexts) {
  model::ModelOptions mo;
  auto model = model::Model::load(testing::smollm2_path(), mo);
  const std::vector<int32_t> few = perplexity_tokens(*model, "A short text.");
  PerplexityOptions o;
  o.n_ctx = 64;
  EXPECT_THROW(compute_perplexity(*model, nullptr, few, o), Error);
  std::vector<int32_t> many(400, 100);
  o.n_ctx = 63;
  EXPECT_THROW(compute_perplexity(*model, nullptr, many, o), Error);
}

}  // namespace
}  // namespace kestrel::eval
