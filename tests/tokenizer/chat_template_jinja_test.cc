// The interpreter on small templates: one-feature snippets rendered by jinja2 (snippets.json,
// written by tests/golden/chat/generate.py) compared byte for byte, and hand-written checks of
// error messages, JSON, and the pieces jinja2 cannot produce deterministically.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "test_paths.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/jinja/json.h"
#include "tokenizer/jinja/template.h"

namespace kestrel::tokenizer::jinja {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const Value& field(const Value& obj, const char* key) {
  static const Value kMissing;
  const Value* v = obj.find(key);
  return v != nullptr ? *v : kMissing;
}

std::string render(const std::string& source, const std::string& vars_json = "{}") {
  return Template(source).render(parse_json(vars_json));
}

// The message of the kestrel::Error that rendering throws, or "" if it does not throw.
std::string error_of(const std::string& source, const std::string& vars_json = "{}") {
  try {
    render(source, vars_json);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JinjaSnippets, MatchJinja2) {
  Value golden = parse_json(read_file(testing::golden_dir() + "/chat/snippets.json"));
  const Value& snippets = field(golden, "snippets");
  ASSERT_GT(snippets.items().size(), 50u);
  for (const Value& s : snippets.items()) {
    const std::string name = field(s, "name").as_string();
    const std::string source = field(s, "template").as_string();
    const Value& vars = field(s, "variables");
    const Value& expected = field(s, "output");
    if (expected.is_none()) {
      EXPECT_THROW(Template(source).render(vars), Error)
          << name << ": jinja2 raised " << field(s, "error").as_string();
      continue;
    }
    try {
      EXPECT_EQ(Template(source).render(vars), expected.as_string()) << name << ": " << source;
    } catch (const Error& e) {
      ADD_FAILURE() << name << ": threw " << e.what();
    }
  }
}

TEST(JinjaErrors, SyntaxErrorNamesLineAndColumn) {
  EXPECT_NE(error_of("line one\n{{ 1 + }}").find("line 2, column 8"), std::string::npos)
      << error_of("line one\n{{ 1 + }}");
  EXPECT_NE(error_of("a\nb\n  {% if x %}\n").find("unexpected end of template"), std::string::npos);
  EXPECT_NE(error_of("{{ 'abc }}").find("line 1, column 4"), std::string::npos);
  EXPECT_NE(error_of("\n\n{% for x in y %}{% endif %}").find("line 3"), std::string::npos);
  EXPECT_NE(error_of("{{ x").find("unterminated"), std::string::npos);
  EXPECT_NE(error_of("{# never closed").find("unterminated comment"), std::string::npos);
  EXPECT_NE(error_of("{% break %}").find("outside of a loop"), std::string::npos);
}

TEST(JinjaErrors, UnknownFilterAndTestAtParseTime) {
  std::string e = error_of("x\n  {{ s | shout }}");
  EXPECT_NE(e.find("no filter named 'shout'"), std::string::npos) << e;
  EXPECT_NE(e.find("line 2, column 10"), std::string::npos) << e;
  EXPECT_NE(error_of("{{ 1 is prime }}").find("no test named 'prime'"), std::string::npos);
  // As in jinja2, inside an if body the check waits until the filter runs.
  EXPECT_EQ(render("{% if false %}{{ s | shout }}{% endif %}ok"), "ok");
  EXPECT_NE(error_of("{% if true %}{{ s | shout }}{% endif %}").find("shout"), std::string::npos);
}

TEST(JinjaErrors, UnsupportedTagsAreNamed) {
  EXPECT_NE(error_of("{% include 'x.j2' %}").find("unsupported tag 'include'"), std::string::npos);
  EXPECT_NE(error_of("{% extends 'base' %}").find("'extends'"), std::string::npos);
}

TEST(JinjaErrors, RuntimeErrorsNameTheStatement) {
  std::string e = error_of("ok\n{{ raise_exception('Roles must alternate') }}");
  EXPECT_NE(e.find("Roles must alternate"), std::string::npos) << e;
  EXPECT_NE(e.find("line 2, column 1"), std::string::npos) << e;
  EXPECT_NE(error_of("{{ missing.attr }}").find("'missing' is undefined"), std::string::npos);
  EXPECT_NE(error_of("{{ 'a' + 1 }}").find("unsupported operand"), std::string::npos);
}

TEST(JinjaUndefined, BehavesLikeJinja2Default) {
  EXPECT_EQ(render("[{{ x }}]{% if x %}t{% else %}f{% endif %}{{ x is defined }}{{ x | length }}"),
            "[]fFalse0");
  EXPECT_EQ(render("{% for a in x %}a{% else %}none{% endfor %}"), "none");
  EXPECT_EQ(render("{{ d.missing is defined }}", R"({"d": {}})"), "False");
  EXPECT_EQ(render("{{ x == y }}{{ x is none }}{{ none.attr is defined }}"), "TrueFalseFalse");
}

TEST(JinjaGlobals, StrftimeNowFormatsTheCurrentTime) {
  std::string year = render("{{ strftime_now('%Y') }}");
  ASSERT_EQ(year.size(), 4u);
  EXPECT_GE(std::stoi(year), 2024);
  std::string date = render("{{ strftime_now('%d %b %Y') }}");
  EXPECT_EQ(date.size(), 11u) << date;
}

TEST(JinjaJson, RoundTripsAndRejects) {
  const std::string text = R"({"b": [1, 2.5, -3e-05, true, null, "é\n\"\u00e9\ud83d\ude00"], "a": {}})";
  Value v = parse_json(text);
  EXPECT_EQ(to_json(v), R"({"b": [1, 2.5, -3e-05, true, null, "é\n\"é😀"], "a": {}})");
  JsonOptions ascii;
  ascii.ensure_ascii = true;
  EXPECT_EQ(to_json(v, ascii),
            R"({"b": [1, 2.5, -3e-05, true, null, "\u00e9\n\"\u00e9\ud83d\ude00"], "a": {}})");
  EXPECT_THROW(parse_json("{\"a\": }"), Error);
  EXPECT_THROW(parse_json("[1, 2"), Error);
  EXPECT_THROW(parse_json("{} x"), Error);
  EXPECT_THROW(to_json(Value::undefined("x")), Error);
}

TEST(JinjaValues, PythonFloatRepr) {
  EXPECT_EQ(float_repr(1.0), "1.0");
  EXPECT_EQ(float_repr(0.1), "0.1");
  EXPECT_EQ(float_repr(1e16), "1e+16");
  EXPECT_EQ(float_repr(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(float_repr(1e-5), "1e-05");
  EXPECT_EQ(float_repr(0.0001), "0.0001");
  EXPECT_EQ(float_repr(-2.5e-300), "-2.5e-300");
}

TEST(ChatTemplateApi, ExtraVariablesAndMove) {
  tokenizer::ChatTemplate t("{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }};"
                            "{% endfor %}{{ tools is defined }}{{ tools is none }}{{ who }}");
  EXPECT_EQ(t.apply({{"user", "hi"}}, false, "<s>", "</s>"), "<s>user:hi;TrueTrue");
  EXPECT_EQ(t.apply({{"user", "hi"}}, false, "<s>", "</s>", R"({"who": "me", "tools": []})"),
            "<s>user:hi;TrueFalseme");
  tokenizer::ChatTemplate moved(std::move(t));
  EXPECT_EQ(moved.apply_json(R"({"messages": [], "bos_token": "B"})"), "BFalseFalse");
  EXPECT_THROW(moved.apply_json("[]"), Error);
  EXPECT_THROW(tokenizer::ChatTemplate("{% if %}"), Error);
}

}  // namespace
}  // namespace kestrel::tokenizer::jinja
