// Tokenizer pieces on small hand-made vocabularies: pre-tokenizer splits, BPE and SPM merging,
// metadata defaults and errors, UTF-8 handling in the streaming decoder.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"

namespace kestrel::tokenizer {
namespace {

std::vector<std::string> split(PreType type, const std::string& text) {
  PreTokenizer pre(type);
  std::vector<std::string> out;
  for (const auto& [b, e] : pre.split(text)) out.push_back(text.substr(b, e - b));
  return out;
}

using Words = std::vector<std::string>;

TEST(PreTokenizer, Gpt2) {
  EXPECT_EQ(split(PreType::kGpt2, "Hello world 12345"), (Words{"Hello", " world", " 12345"}));
  EXPECT_EQ(split(PreType::kGpt2, "DON'T don't"), (Words{"DON", "'", "T", " don", "'t"}));
  EXPECT_EQ(split(PreType::kGpt2, "a  b\n\nc "), (Words{"a", " ", " b", "\n", "\n", "c", " "}));
}

TEST(PreTokenizer, SmolLmSplitsEveryDigit) {
  EXPECT_EQ(split(PreType::kSmolLm, "x 2024!"), (Words{"x", " ", "2", "0", "2", "4", "!"}));
}

TEST(PreTokenizer, Llama3) {
  EXPECT_EQ(split(PreType::kLlama3, "Hello world 12345"),
            (Words{"Hello", " world", " ", "123", "45"}));
  EXPECT_EQ(split(PreType::kLlama3, "DON'T stop\n\n  x"),
            (Words{"DON", "'T", " stop", "\n\n", " ", " x"}));
  EXPECT_EQ(split(PreType::kLlama3, "\xE4\xBD\xA0\xE5\xA5\xBD, ok"),
            (Words{"\xE4\xBD\xA0\xE5\xA5\xBD", ",", " ok"}));
}

TEST(PreTokenizer, Qwen2SplitsEveryDigit) {
  EXPECT_EQ(split(PreType::kQwen2, "v12 ok"), (Words{"v", "1", "2", " ok"}));
}

TEST(PreTokenizer, DefaultSplitsPunctuationFirst) {
  EXPECT_EQ(split(PreType::kDefault, "a,b 1234"), (Words{"a", ",", "b", " ", "123", "4"}));
}

TEST(Utf8, SanitizeReplacesIllFormedSequences) {
  EXPECT_EQ(utf8_sanitize("ok"), "ok");
  EXPECT_EQ(utf8_sanitize("a\x80"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(utf8_sanitize("\xE4\xBD"), "\xEF\xBF\xBD");              // truncated: one replacement
  EXPECT_EQ(utf8_sanitize("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_TRUE(utf8_is_valid("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(utf8_is_valid("\xED\xA0\x80"));  // surrogate
}

// A SentencePiece vocabulary: byte tokens, a few pieces, scores that prefer "▁hi".
VocabData spm_vocab() {
  VocabData d;
  d.model = "llama";
  d.tokens = {"<unk>", "<s>",           "</s>", "\xE2\x96\x81",  "h",
              "i",     "\xE2\x96\x81h", "hi",   "\xE2\x96\x81hi"};
  d.scores = {0, 0, 0, -1, -2, -2, -3, -4, -1};
  d.token_types = {2, 3, 3, 1, 1, 1, 1, 1, 1};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    d.tokens.push_back(buf);
    d.scores.push_back(0);
    d.token_types.push_back(6);
  }
  return d;
}

TEST(Spm, DefaultsAddBosAndSpacePrefix) {
  auto tok = Tokenizer::from_vocab_data(spm_vocab());
  EXPECT_EQ(tok->bos(), 1);
  EXPECT_EQ(tok->eos(), 2);
  EXPECT_TRUE(tok->is_eog(2));
  EXPECT_EQ(tok->encode("hi", true, false), (std::vector<TokenId>{1, 8}));
  EXPECT_EQ(tok->decode({1, 8}), " hi");
  EXPECT_EQ(tok->decode({1, 8}, true), "<s> hi");
}

TEST(Spm, ByteFallbackAndStreaming) {
  auto tok = Tokenizer::from_vocab_data(spm_vocab());
  const auto ids = tok->encode("\xE4\xBD\xA0", false, false);  // "▁" then 3 byte tokens
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[1], 9 + 0xE4);
  IncrementalDecoder dec(*tok);
  EXPECT_EQ(dec.push(ids[0]), " ");
  EXPECT_EQ(dec.push(ids[1]), "");
  EXPECT_EQ(dec.push(ids[2]), "");
  EXPECT_EQ(dec.push(ids[3]), "\xE4\xBD\xA0");
  EXPECT_EQ(dec.push(9 + 0xFF), "\xEF\xBF\xBD");  // never valid
  EXPECT_EQ(dec.push(9 + 0xF0), "");
  EXPECT_EQ(dec.push(9 + 'A'),
            "\xEF\xBF\xBD"
            "A");  // broken sequence, then the next character
  EXPECT_EQ(dec.push(9 + 0xE4), "");
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");  // truncated at the end
  EXPECT_EQ(dec.flush(), "");
}

// Byte-level BPE over the characters of "a b." with two merges.
VocabData bpe_vocab(const std::string& pre) {
  VocabData d;
  d.model = "gpt2";
  d.pre = pre;
  d.tokens = {"<|endoftext|>",
              "a",
              "b",
              "\xC4\xA0",
              ".",
              "\xC4\xA0"
              "b",
              "\xC4\xA0.",
              "ab",
              "<|im_end|>"};
  d.token_types = {3, 1, 1, 1, 1, 1, 1, 1, 3};
  d.merges = {"\xC4\xA0 b", "\xC4\xA0 .", "a b"};
  d.bos_id = 0;
  d.eos_id = 0;
  return d;
}

TEST(Bpe, MergesAndSpecialTokens) {
  auto tok = Tokenizer::from_vocab_data(bpe_vocab("smollm"));
  EXPECT_FALSE(tok->add_bos());
  EXPECT_EQ(tok->encode("ab b .", true, false), (std::vector<TokenId>{7, 5, 6}));
  EXPECT_EQ(tok->encode("a<|im_end|>", true, true), (std::vector<TokenId>{1, 8}));
  EXPECT_TRUE(tok->is_eog(8));  // recognised by its text
  EXPECT_TRUE(tok->is_control(8));
  EXPECT_EQ(tok->decode({1, 6}), "a .");  // SmolLM2 keeps spaces as they are
}

TEST(Bpe, Gpt2CleansUpSpacesOnDecode) {
  auto tok = Tokenizer::from_vocab_data(bpe_vocab("gpt-2"));
  EXPECT_EQ(tok->decode({1, 6}), "a.");
}

TEST(Bpe, Llama3AddsBos) {
  auto tok = Tokenizer::from_vocab_data(bpe_vocab("llama-bpe"));
  EXPECT_TRUE(tok->add_bos());
  EXPECT_EQ(tok->encode("a", true, false), (std::vector<TokenId>{0, 1}));
}

TEST(Vocab, MetadataErrors) {
  auto unknown_pre = bpe_vocab("no-such-pre");
  try {
    Tokenizer::from_vocab_data(unknown_pre);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'no-such-pre'"), std::string::npos) << e.what();
  }
  auto bad_model = bpe_vocab("smollm");
  bad_model.model = "bert";
  EXPECT_THROW(Tokenizer::from_vocab_data(bad_model), Error);
  auto no_merges = bpe_vocab("smollm");
  no_merges.merges.clear();
  EXPECT_THROW(Tokenizer::from_vocab_data(no_merges), Error);
  auto short_types = spm_vocab();
  short_types.token_types.pop_back();
  EXPECT_THROW(Tokenizer::from_vocab_data(short_types), Error);
}

}  // namespace
}  // namespace kestrel::tokenizer
