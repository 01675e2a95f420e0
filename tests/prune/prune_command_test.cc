// kestrel prune on SmolLM2-135M: bad input fails with exit code 2 and leaves no file; each kind of
// output loads in Kestrel with the shape its metadata states and still predicts like the base.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "engine/evaluate.h"
#include "io/gguf/gguf_file.h"
#include "model/model.h"
#include "quant/type_ops.h"
#include "kestrel_cli.h"
#include "tokenizer/tokenizer.h"

namespace kestrel::prune {
namespace {

namespace fs = std::filesystem;
using kestrel::testing::kestrel_binary;
using kestrel::testing::smollm2_path;

const char* kCalib = "/usr/share/common-licenses/Apache-2.0";  // Debian base-files
const char* kEval = "/usr/share/common-licenses/GPL-3";        // Debian base-files

int run(const std::string& args) { return kestrel::testing::run_kestrel(args); }

class PruneCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(smollm2_path())) GTEST_SKIP() << "model not fetched";
    // One folder per test: ctest runs these tests as parallel processes, and each TearDown removes
    // its own folder.
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / (std::string("kestrel_prune_test_") + info->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string out(const std::string& name) const { return (dir_ / name).string(); }
  bool dir_empty() const { return fs::is_empty(dir_); }

  fs::path dir_;
};

TEST_F(PruneCommand, BadInputExitsWithTwoAndLeavesNoFile) {
  const std::string in = smollm2_path();
  const std::string o = out("x.gguf");
  EXPECT_EQ(run("prune " + in + " " + o + " --method magnitude --sparsity 1.5"), 2);
  EXPECT_EQ(run("prune " + in + " " + o + " --method magnitude --sparsity -0.1"), 2);
  EXPECT_EQ(run("prune " + in + " " + o + " --method cubic --sparsity 0.5"), 2);
  EXPECT_EQ(run("prune " + in + " " + o + " --method wanda --sparsity 0.5"), 2);  // no --calib
  EXPECT_EQ(run("prune " + in + " " + o + " --method magnitude --remove 3"), 2);
  EXPECT_EQ(run("prune " + in + " " + o + " --method ffn --remove 3"), 2);  // no --calib
  EXPECT_EQ(run("prune " + in + " " + o + " --method ffn --sparsity 1 --calib " + kCalib), 2);
  EXPECT_EQ(run("prune " + in + " " + o + " --method heads --remove 4 --calib " + kCalib), 2);  // 3 KV groups
  EXPECT_EQ(run("prune " + in + " " + o + " --method layers --remove 30 --calib " + kCalib), 2);
  EXPECT_EQ(run("prune " + in + " " + o + " --method magnitude --sparsity 0.5 --type q9"), 2);
  EXPECT_EQ(run("prune " + out("missing.gguf") + " " + o + " --method magnitude --sparsity 0.5"), 2);
  EXPECT_TRUE(dir_empty());
}

// Top-1 agreement of a model with the Q4_1 base over the first tokens of the evaluation text.
double top1_vs_base(const std::string& path, int64_t n_tokens) {
  model::ModelOptions mo;
  mo.n_threads = 2;
  mo.max_batch = n_tokens;
  auto base = model::Model::load(smollm2_path(), mo);
  auto pruned = model::Model::load(path, mo);
  std::string text;
  {
    std::FILE* f = std::fopen(kEval, "rb");
    char buf[4096];
    const size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    text.assign(buf, n);
  }
  std::vector<int32_t> tokens = base->tokenizer().encode(text, true, false);
  tokens.resize(n_tokens);
  std::vector<int64_t> a, b;
  const int64_t nv = base->hparams().n_vocab;
  auto argmax = [nv](const float* l) { return std::max_element(l, l + nv) - l; };
  engine::evaluate_logits(*base, tokens, n_tokens, [&](int64_t, const float* l) { a.push_back(argmax(l)); });
  engine::evaluate_logits(*pruned, tokens, n_tokens, [&](int64_t, const float* l) {
    for (int64_t i = 0; i < nv; ++i) EXPECT_TRUE(std::isfinite(l[i]));
    b.push_back(argmax(l));
  });
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return static_cast<double>(same) / a.size();
}

TEST_F(PruneCommand, MagnitudeHalfZeroesHalfOfEveryBlockMatrix) {
  const std::string o = out("mag.gguf");
  ASSERT_EQ(run("prune " + smollm2_path() + " " + o + " --method magnitude --sparsity 0.5 -t 2"), 0);
  const auto f = io::GgufFile::open(o);
  const io::GgufTensorInfo* t = f->find_tensor("blk.3.ffn_up.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->type, tensor::DType::F16);
  std::vector<float> row(t->ne[0]);
  int64_t zeros = 0;
  const auto* p = static_cast<const uint8_t*>(t->data);
  for (int64_t r = 0; r < t->ne[1]; ++r) {
    quant::generic_type_ops(t->type).dequantize_row(p + r * t->ne[0] * 2, row.data(), t->ne[0]);
    for (float v : row) zeros += v == 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(zeros) / t->n_elements(), 0.5, 1e-3);
  EXPECT_GE(top1_vs_base(o, 24), 0.3);
}

TEST_F(PruneCommand, StructuredOutputsHaveTheirShapeAndRun) {
  const std::string in = smollm2_path();
  const std::string calib = std::string(" --calib-tokens 64 -t 2 --calib ") + kCalib;
  ASSERT_EQ(run("prune " + in + " " + out("ffn.gguf") + " --method ffn --remove 128" + calib), 0);
  ASSERT_EQ(run("prune " + in + " " + out("heads.gguf") + " --method heads --remove 3" + calib), 0);
  ASSERT_EQ(run("prune " + in + " " + out("layers.gguf") + " --method layers --remove 2" + calib), 0);
  {
    const auto f = io::GgufFile::open(out("ffn.gguf"));
    EXPECT_EQ(f->get_int("llama.feed_forward_length"), 1536 - 128);
    EXPECT_EQ(f->find_tensor("blk.0.ffn_down.weight")->ne[0], 1536 - 128);
  }
  {
    const auto f = io::GgufFile::open(out("heads.gguf"));
    EXPECT_EQ(f->get_int("llama.attention.head_count"), 6);
    EXPECT_EQ(f->get_int("llama.attention.key_length"), 64);
    EXPECT_EQ(f->find_tensor("blk.0.attn_q.weight")->ne[1], 6 * 64);
  }
  {
    const auto f = io::GgufFile::open(out("layers.gguf"));
    EXPECT_EQ(f->get_int("llama.block_count"), 28);
    EXPECT_NE(f->find_tensor("blk.27.ffn_up.weight"), nullptr);
    EXPECT_EQ(f->find_tensor("blk.28.ffn_up.weight"), nullptr);
  }
  // Small removals keep most greedy predictions.
  EXPECT_GE(top1_vs_base(out("ffn.gguf"), 24), 0.5);
  EXPECT_GE(top1_vs_base(out("heads.gguf"), 24), 0.3);
  EXPECT_GE(top1_vs_base(out("layers.gguf"), 24), 0.5);
}

}  // namespace
}  // namespace kestrel::prune
