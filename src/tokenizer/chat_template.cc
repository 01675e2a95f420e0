#include "tokenizer/chat_template.h"

#include "core/error.h"
#include "tokenizer/jinja/json.h"
#include "tokenizer/jinja/template.h"

namespace kestrel::tokenizer {

struct ChatTemplate::Impl {
  explicit Impl(const std::string& source) : tmpl(source) {}
  jinja::Template tmpl;
};

ChatTemplate::ChatTemplate(const std::string& source) : impl_(std::make_unique<Impl>(source)) {}
ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;

namespace {

jinja::Value base_variables(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                            const std::string& bos_token, const std::string& eos_token) {
  jinja::List list;
  for (const ChatMessage& m : messages) {
    list.push_back(jinja::Value::dict({{jinja::Value("role"), jinja::Value(m.role)},
                                       {jinja::Value("content"), jinja::Value(m.content)}}));
  }
  // transformers always passes tools and documents, None when there are none, so a template's
  // `tools is defined` is true there; keep it so here.
  return jinja::Value::dict({
      {jinja::Value("messages"), jinja::Value::list(std::move(list))},
      {jinja::Value("tools"), jinja::Value::none()},
      {jinja::Value("documents"), jinja::Value::none()},
      {jinja::Value("add_generation_prompt"), jinja::Value(add_generation_prompt)},
      {jinja::Value("bos_token"), jinja::Value(bos_token)},
      {jinja::Value("eos_token"), jinja::Value(eos_token)},
  });
}

jinja::Value parse_object(const std::string& json) {
  jinja::Value v = jinja::parse_json(json);
  KESTREL_CHECK(v.is_dict(), "chat template variables must be a JSON object");
  return v;
}

}  // namespace

std::string ChatTemplate::apply(const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, const std::string& bos_token,
                                const std::string& eos_token) const {
  return impl_->tmpl.render(base_variables(messages, add_generation_prompt, bos_token, eos_token));
}

std::string ChatTemplate::apply(const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, const std::string& bos_token,
                                const std::string& eos_token,
                                const std::string& extra_variables_json) const {
  jinja::Value vars = base_variables(messages, add_generation_prompt, bos_token, eos_token);
  const jinja::Value extra = parse_object(extra_variables_json);  // outlives the loop below
  for (const auto& [k, v] : extra.entries()) vars.set(k, v);
  return impl_->tmpl.render(vars);
}

std::string ChatTemplate::apply_json(const std::string& variables_json) const {
  return impl_->tmpl.render(parse_object(variables_json));
}

}  // namespace kestrel::tokenizer
