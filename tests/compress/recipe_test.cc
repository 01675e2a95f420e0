#include "compress/recipe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

#include "core/error.h"

namespace kestrel::compress {
namespace {

TensorSlot slot(const std::string& name, int64_t n_in, int n_layer = 32, bool tied = false) {
  return TensorSlot{name, 2, n_in, n_layer, tied};
}

TEST(Recipe, ParsesEveryNameAndRejectsUnknownOnes) {
  EXPECT_EQ(parse_recipe("q4_0").base, DType::Q4_0);
  EXPECT_FALSE(parse_recipe("q4_0").mixed);
  EXPECT_EQ(parse_recipe("q4_k_m").base, DType::Q4_K);
  EXPECT_TRUE(parse_recipe("q4_k_m").mixed);
  EXPECT_EQ(parse_recipe("q4_k_m").file_type, 15u);
  EXPECT_EQ(parse_recipe("bf16").file_type, 32u);
  EXPECT_THROW(parse_recipe("q3_k"), Error);
  EXPECT_THROW(parse_recipe(""), Error);
  EXPECT_NE(recipe_names().find("q5_k_m"), std::string::npos);
}

TEST(Recipe, OnlyWeightMatricesAreQuantized) {
  EXPECT_TRUE(is_quantizable(slot("blk.0.attn_q.weight", 256)));
  EXPECT_FALSE(is_quantizable(TensorSlot{"blk.0.attn_norm.weight", 1, 256, 32, false}));
  EXPECT_FALSE(is_quantizable(TensorSlot{"blk.0.attn_q.bias", 2, 256, 32, false}));
}

TEST(Recipe, LayerIndexFromName) {
  EXPECT_EQ(layer_of("blk.17.ffn_down.weight"), 17);
  EXPECT_EQ(layer_of("output.weight"), -1);
  EXPECT_EQ(layer_of("blk.x.ffn_down.weight"), -1);
  EXPECT_EQ(layer_of("blk.3"), -1);
}

TEST(Recipe, PlainTypesAreStrictUnlessFallbackIsAllowed) {
  const Recipe q4k = parse_recipe("q4_k");
  EXPECT_EQ(choose_type(q4k, slot("blk.0.attn_q.weight", 512), false), DType::Q4_K);
  EXPECT_THROW(choose_type(q4k, slot("blk.0.attn_q.weight", 576), false), Error);
  EXPECT_EQ(choose_type(q4k, slot("blk.0.attn_q.weight", 576), true), DType::Q5_0);
  EXPECT_EQ(choose_type(parse_recipe("q6_k"), slot("a.weight", 576), true), DType::Q8_0);
  EXPECT_EQ(choose_type(parse_recipe("q5_k"), slot("a.weight", 576), true), DType::Q5_1);
  EXPECT_EQ(choose_type(parse_recipe("q4_0"), slot("a.weight", 48), true), DType::F16);
  EXPECT_EQ(choose_type(parse_recipe("f16"), slot("a.weight", 7), true), DType::F16);
}

// llama.cpp's Q4_K_M: output Q6_K; attn_v and ffn_down Q6_K on layers where use_more_bits holds
// (first and last eighth, every third between), else Q4_K.
TEST(Recipe, Q4KMFollowsLlamaCppRules) {
  const Recipe r = parse_recipe("q4_k_m");
  EXPECT_EQ(choose_type(r, slot("output.weight", 4096), false), DType::Q6_K);
  EXPECT_EQ(choose_type(r, slot("token_embd.weight", 4096), false), DType::Q4_K);
  EXPECT_EQ(choose_type(r, slot("token_embd.weight", 4096, 32, true), false), DType::Q6_K);
  EXPECT_EQ(choose_type(r, slot("token_embd.weight", 576, 32, true), false), DType::Q8_0);
  // 32 layers: more bits for il < 4, il >= 28, and (il - 4) % 3 == 2.
  const int more[] = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
  for (int il = 0; il < 32; ++il) {
    const bool expect_more = std::find(std::begin(more), std::end(more), il) != std::end(more);
    const std::string p = "blk." + std::to_string(il) + ".";
    EXPECT_EQ(choose_type(r, slot(p + "attn_v.weight", 4096), false),
              expect_more ? DType::Q6_K : DType::Q4_K) << il;
    EXPECT_EQ(choose_type(r, slot(p + "ffn_down.weight", 4096), false),
              expect_more ? DType::Q6_K : DType::Q4_K) << il;
    EXPECT_EQ(choose_type(r, slot(p + "attn_q.weight", 4096), false), DType::Q4_K);
  }
  // Fallbacks for rows of 576: Q4_K -> Q5_0, Q6_K -> Q8_0.
  EXPECT_EQ(choose_type(r, slot("blk.5.attn_q.weight", 576), false), DType::Q5_0);
  EXPECT_EQ(choose_type(r, slot("blk.0.attn_v.weight", 576), false), DType::Q8_0);
}

TEST(Recipe, Q4KSUsesQ5KOnTheFirstEighth) {
  const Recipe r = parse_recipe("q4_k_s");
  EXPECT_EQ(choose_type(r, slot("blk.0.ffn_down.weight", 4096, 30), false), DType::Q5_K);
  EXPECT_EQ(choose_type(r, slot("blk.2.ffn_down.weight", 4096, 30), false), DType::Q5_K);
  EXPECT_EQ(choose_type(r, slot("blk.3.ffn_down.weight", 4096, 30), false), DType::Q4_K);
  EXPECT_EQ(choose_type(r, slot("blk.3.attn_v.weight", 4096, 30), false), DType::Q5_K);
  EXPECT_EQ(choose_type(r, slot("blk.4.attn_v.weight", 4096, 30), false), DType::Q4_K);
  EXPECT_EQ(choose_type(r, slot("blk.29.ffn_down.weight", 4096, 30), false), DType::Q4_K);
}

}  // namespace
}  // namespace kestrel::compress
