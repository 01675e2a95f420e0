// Encode/decode against llama.cpp's outputs for the corpus in tests/golden/tokenizer/ (regenerate
// with tests/golden/tokenizer/generate.py). Skips a model whose GGUF file is not present.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/gguf/gguf_file.h"
#include "test_paths.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"

namespace kestrel::tokenizer {
namespace {

using nlohmann::json;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

struct ModelCase {
  const char* key;  // golden file name
  std::string (*path)();
};

struct Loaded {
  std::unique_ptr<Tokenizer> tok;
  json golden;
};

// Loading Gemma's 262k-token vocabulary takes a moment; each model is loaded once per run.
const Loaded* load(const ModelCase& mc) {
  static std::map<std::string, std::unique_ptr<Loaded>> cache;
  auto it = cache.find(mc.key);
  if (it != cache.end()) return it->second.get();
  auto loaded = std::make_unique<Loaded>();
  const std::string path = mc.path();
  if (std::filesystem::exists(path)) {
    auto gguf = io::GgufFile::open(path);
    loaded->tok = Tokenizer::from_gguf(*gguf);
    std::ifstream in(testing::golden_dir() + "/tokenizer/" + mc.key + ".json");
    loaded->golden = json::parse(in);
  }
  return (cache[mc.key] = std::move(loaded)).get();
}

std::string corpus_path(const std::string& name) {
  return testing::golden_dir() + "/tokenizer/corpus/" + name;
}

class GoldenTest : public ::testing::TestWithParam<ModelCase> {
 protected:
  void SetUp() override {
    loaded_ = load(GetParam());
    if (!loaded_->tok) GTEST_SKIP() << "model not found: " << GetParam().path();
  }
  const Tokenizer& tok() const { return *loaded_->tok; }
  const json& golden() const { return loaded_->golden; }
  const Loaded* loaded_ = nullptr;
};

TEST_P(GoldenTest, VocabularyFacts) {
  EXPECT_EQ(tok().n_vocab(), golden()["n_vocab"].get<int>());
  EXPECT_EQ(tok().bos(), golden()["bos"].get<int>());
  EXPECT_EQ(tok().eos(), golden()["eos"].get<int>());
  EXPECT_EQ(tok().add_bos(), golden()["add_bos"].get<bool>());
  std::set<TokenId> eog, control;
  for (const auto& v : golden()["eog"]) eog.insert(v.get<TokenId>());
  for (const auto& v : golden()["control"]) control.insert(v.get<TokenId>());
  for (TokenId id = 0; id < tok().n_vocab(); ++id) {
    ASSERT_EQ(tok().is_eog(id), eog.count(id) != 0) << "is_eog(" << id << ")";
    ASSERT_EQ(tok().is_control(id), control.count(id) != 0) << "is_control(" << id << ")";
  }
}

TEST_P(GoldenTest, Pieces) {
  for (const auto& p : golden()["pieces"]) {
    const TokenId id = p[0].get<TokenId>();
    EXPECT_EQ(tok().token_to_piece(id, false), unhex(p[1].get<std::string>())) << "id " << id;
    EXPECT_EQ(tok().token_to_piece(id, true), unhex(p[2].get<std::string>())) << "id " << id;
  }
}

TEST_P(GoldenTest, EncodeMatchesLlamaCpp) {
  for (const auto& [name, entry] : golden()["files"].items()) {
    const std::string text = read_bytes(corpus_path(name));
    EXPECT_EQ(tok().encode(text, true, false), entry["plain"].get<std::vector<TokenId>>())
        << name << " (parse_special=false)";
    EXPECT_EQ(tok().encode(text, true, true), entry["special"].get<std::vector<TokenId>>())
        << name << " (parse_special=true)";
  }
}

TEST_P(GoldenTest, DecodeMatchesLlamaCpp) {
  for (const auto& [name, entry] : golden()["files"].items()) {
    EXPECT_EQ(tok().decode(entry["plain"].get<std::vector<TokenId>>(), false),
              unhex(entry["detok_plain_hex"].get<std::string>()))
        << name;
    EXPECT_EQ(tok().decode(entry["special"].get<std::vector<TokenId>>(), true),
              unhex(entry["detok_special_hex"].get<std::string>()))
        << name;
  }
}

// Fed one token at a time, the decoder emits only whole, valid characters and, in all, exactly the
// full decoded text (with U+FFFD where the text itself is not valid UTF-8).
TEST_P(GoldenTest, IncrementalDecoderStreamsValidUtf8) {
  for (const auto& [name, entry] : golden()["files"].items()) {
    for (const bool special : {false, true}) {
      const auto ids = entry[special ? "special" : "plain"].get<std::vector<TokenId>>();
      IncrementalDecoder dec(tok(), special);
      std::string streamed;
      for (TokenId id : ids) {
        const std::string chunk = dec.push(id);
        ASSERT_TRUE(utf8_is_valid(chunk)) << name << ": invalid chunk after token " << id;
        streamed += chunk;
      }
      const std::string rest = dec.flush();
      ASSERT_TRUE(utf8_is_valid(rest)) << name;
      streamed += rest;
      const std::string full = tok().decode(ids, special);
      if (utf8_is_valid(full)) {
        EXPECT_EQ(streamed, full) << name;
      } else {
        EXPECT_EQ(streamed, utf8_sanitize(full)) << name;
      }
    }
  }
}

TEST_P(GoldenTest, EdgeCases) {
  const std::vector<TokenId> bos_only =
      tok().add_bos() ? std::vector<TokenId>{tok().bos()} : std::vector<TokenId>{};
  EXPECT_EQ(tok().encode("", true, false), bos_only);
  EXPECT_TRUE(tok().encode("", false, false).empty());
  for (const char* text : {" ", "\n", "\n\n\n", "  ", "\t"}) {
    const auto ids = tok().encode(text, false, false);
    EXPECT_FALSE(ids.empty()) << "'" << text << "'";
    EXPECT_EQ(tok().decode(ids), text);
  }
  EXPECT_THROW(tok().token_to_piece(-1), Error);
  EXPECT_THROW(tok().token_to_piece(tok().n_vocab()), Error);
}

INSTANTIATE_TEST_SUITE_P(Models, GoldenTest,
                         ::testing::Values(ModelCase{"smollm2", &testing::smollm2_path},
                                           ModelCase{"gemma3", &testing::gemma3_path}),
                         [](const auto& info) { return std::string(info.param.key); });

// The Llama 3, Qwen2, GPT-2 and default pre-tokenizers, on SmolLM2's vocabulary with
// tokenizer.ggml.pre replaced (llama.cpp's outputs come from a GGUF patched the same way).
TEST(PreTokenizerVariants, MatchLlamaCpp) {
  const std::string path = testing::smollm2_path();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "model not found: " << path;
  const auto gguf = io::GgufFile::open(path);
  const VocabData base = read_vocab_data(*gguf);
  std::ifstream in(testing::golden_dir() + "/tokenizer/smollm2_pre_variants.json");
  const json golden = json::parse(in);
  ASSERT_FALSE(golden["variants"].empty());
  for (const auto& [pre, variant] : golden["variants"].items()) {
    VocabData data = base;
    data.pre = pre;
    const auto tok = Tokenizer::from_vocab_data(std::move(data));
    EXPECT_EQ(tok->add_bos(), variant["add_bos"].get<bool>()) << pre;
    for (const auto& [name, entry] : variant["files"].items()) {
      const std::string text = read_bytes(corpus_path(name));
      const auto ids = entry["plain"].get<std::vector<TokenId>>();
      EXPECT_EQ(tok->encode(text, true, false), ids) << pre << ": " << name;
      EXPECT_EQ(tok->decode(ids), unhex(entry["detok_plain_hex"].get<std::string>()))
          << pre << ": " << name;
    }
  }
}

}  // namespace
}  // namespace kestrel::tokenizer
