// Chat templates: the Jinja source in tokenizer.chat_template, rendered by the project's own
// Jinja-subset interpreter (src/tokenizer/jinja/) to the same text Python's jinja2 renders.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace kestrel::tokenizer {

struct ChatMessage {
  std::string role;
  std::string content;
};

class ChatTemplate {
 public:
  // Parses the template; throws kestrel::Error naming the line and column of a syntax error or an
  // unsupported construct.
  explicit ChatTemplate(const std::string& source);
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;

  // Renders with the variables chat templates expect: messages, add_generation_prompt, bos_token,
  // eos_token. Throws kestrel::Error on a runtime error (including raise_exception()).
  std::string apply(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                    const std::string& bos_token, const std::string& eos_token) const;

  // As above, plus more variables given as a JSON object (e.g. {"tools": [...],
  // "date_string": "26 Jul 2024"}); they take precedence over the four above.
  std::string apply(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                    const std::string& bos_token, const std::string& eos_token,
                    const std::string& extra_variables_json) const;

  // Renders with every variable given as one JSON object, for conversations that do not fit
  // ChatMessage (tool calls, content given as a list of parts): {"messages": [...],
  // "add_generation_prompt": true, "bos_token": "<s>", ...}.
  std::string apply_json(const std::string& variables_json) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kestrel::tokenizer
