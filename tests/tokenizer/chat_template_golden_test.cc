// Renders every case of tests/golden/chat/golden.json (written by generate.py with Python's
// jinja2, set up as Hugging Face transformers sets it up) and compares byte for byte. Where
// jinja2 raised, rendering must throw kestrel::Error.
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "test_paths.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/jinja/json.h"

namespace kestrel::tokenizer {
namespace {

using jinja::Value;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string chat_dir() { return testing::golden_dir() + "/chat"; }

const Value& field(const Value& obj, const char* key) {
  static const Value kMissing;
  const Value* v = obj.find(key);
  return v != nullptr ? *v : kMissing;
}

// The messages as ChatMessage when they are all plain {role, content: str}, and the other
// variables are the ones apply() sets; else nullopt.
std::optional<std::vector<ChatMessage>> plain_messages(const Value& vars) {
  for (const auto& [k, v] : vars.entries()) {
    std::string key = k.as_string();
    if (key != "messages" && key != "tools" && key != "documents" && key != "bos_token" &&
        key != "eos_token" && key != "add_generation_prompt") {
      return std::nullopt;
    }
  }
  if (!field(vars, "tools").is_none()) return std::nullopt;
  std::vector<ChatMessage> out;
  for (const Value& m : field(vars, "messages").items()) {
    if (m.entries().size() != 2 || !field(m, "role").is_string() || !field(m, "content").is_string()) {
      return std::nullopt;
    }
    out.push_back({field(m, "role").as_string(), field(m, "content").as_string()});
  }
  return out;
}

TEST(ChatTemplateGolden, MatchesJinja2) {
  Value golden = jinja::parse_json(read_file(chat_dir() + "/golden.json"));
  const Value& cases = field(golden, "cases");
  ASSERT_TRUE(cases.is_list());
  ASSERT_GT(cases.items().size(), 100u);
  std::map<std::string, ChatTemplate> templates;
  int checked = 0, via_apply = 0;
  for (const Value& c : cases.items()) {
    const std::string name = field(c, "template").as_string();
    const std::string label = name + " " + field(c, "case").as_string();
    if (templates.count(name) == 0) {
      templates.emplace(name, ChatTemplate(read_file(chat_dir() + "/templates/" + name + ".jinja")));
    }
    const ChatTemplate& tmpl = templates.at(name);
    const Value& vars = field(c, "variables");
    const Value& expected = field(c, "output");
    if (expected.is_none()) {
      EXPECT_THROW(tmpl.apply_json(jinja::to_json(vars)), Error)
          << label << ": jinja2 raised " << field(c, "error").as_string();
      ++checked;
      continue;
    }
    std::string got;
    try {
      got = tmpl.apply_json(jinja::to_json(vars));
    } catch (const Error& e) {
      ADD_FAILURE() << label << ": threw " << e.what();
      continue;
    }
    EXPECT_EQ(got, expected.as_string()) << label;
    if (auto messages = plain_messages(vars)) {
      EXPECT_EQ(tmpl.apply(*messages, field(vars, "add_generation_prompt").truthy(),
                           field(vars, "bos_token").as_string(), field(vars, "eos_token").as_string()),
                expected.as_string())
          << label << " via apply()";
      ++via_apply;
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(cases.items().size()));
  EXPECT_GT(via_apply, 50);
}

// The templates in the model files the project ships tests with render as jinja2 does.
TEST(ChatTemplateGolden, SmolLM2FromGolden) {
  ChatTemplate t(read_file(chat_dir() + "/templates/smollm2.jinja"));
  EXPECT_EQ(t.apply({{"user", "Hi"}}, true, "", ""),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
            "Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateGolden, Gemma3FromGolden) {
  ChatTemplate t(read_file(chat_dir() + "/templates/gemma3.jinja"));
  EXPECT_EQ(t.apply({{"system", "Be brief."}, {"user", " Hi "}}, true, "<bos>", "<eos>"),
            "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_THROW(t.apply({{"user", "a"}, {"user", "b"}}, true, "<bos>", "<eos>"), Error);
}

}  // namespace
}  // namespace kestrel::tokenizer
