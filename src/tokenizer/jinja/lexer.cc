#include "tokenizer/jinja/lexer.h"

#include <cctype>
#include <cstdlib>

#include "core/error.h"
#include "tokenizer/jinja/strings.h"

namespace kestrel::tokenizer::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Python str.rstrip() of the text before a `{%-` tag.
std::string rstrip_ws(const std::string& s) { return py_strip(s, nullptr, false, true); }

class Lexer {
 public:
  Lexer(std::string source, const LexOptions& options) : src_(std::move(source)), opt_(options) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    size_t pos = 0;
    while (pos < src_.size()) {
      size_t tag = find_tag(pos);
      std::string text = src_.substr(pos, tag - pos);
      if (tag == src_.size()) {
        emit_text(text, pos);
        break;
      }
      char kind = src_[tag + 1];
      char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      if (sign == '-') {
        text = rstrip_ws(text);
      } else if (sign != '+' && opt_.lstrip_blocks && kind != '{') {
        // Spaces and tabs between the start of the line and a block/comment tag are dropped.
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        bool line_start = l_pos > 0 || pos == 0 || src_[pos - 1] == '\n';
        if (line_start && l_pos < text.size() &&
            text.find_first_not_of(" \t\r\f\v", l_pos) == std::string::npos) {
          text.resize(l_pos);
        }
      }
      emit_text(text, pos);
      size_t body = tag + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      if (kind == '#') {
        pos = skip_comment(tag, body);
      } else {
        pos = lex_tag(tag, body, kind == '{');
      }
    }
    tokens_.push_back({Token::Type::kEnd, "", line_of(src_.size()), column_of(src_.size())});
    return std::move(tokens_);
  }

 private:
  int line_of(size_t off) const {
    size_t lo = 0, hi = line_starts_.size();
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      (line_starts_[mid] <= off ? lo : hi) = mid;
    }
    return static_cast<int>(lo) + 1;
  }
  int column_of(size_t off) const {
    return static_cast<int>(off - line_starts_[line_of(off) - 1]) + 1;
  }

  [[noreturn]] void error(size_t off, const std::string& what) const {
    fail("jinja: syntax error at line ", line_of(off), ", column ", column_of(off), ": ", what);
  }

  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) {
        return i;
      }
    }
    return src_.size();
  }

  void emit_text(const std::string& text, size_t off) {
    if (!text.empty()) tokens_.push_back({Token::Type::kText, text, line_of(off), column_of(off)});
  }

  // Whitespace after a closing tag: `-` eats all of it; trim_blocks eats one newline after a
  // block or comment tag unless the tag ends with `+`.
  size_t after_close(size_t end, char sign, bool is_print) const {
    if (sign == '-') {
      while (end < src_.size() && is_space(src_[end])) ++end;
    } else if (sign != '+' && !is_print && opt_.trim_blocks && end < src_.size() &&
               src_[end] == '\n') {
      ++end;
    }
    return end;
  }

  size_t skip_comment(size_t tag, size_t body) {
    size_t close = src_.find("#}", body);
    if (close == std::string::npos) error(tag, "unterminated comment");
    char sign = close > body && src_[close - 1] == '-' ? '-' : '\0';
    return after_close(close + 2, sign, false);
  }

  // Lexes the expression tokens of a {{ }} or {% %} tag; returns the offset after it.
  size_t lex_tag(size_t tag, size_t pos, bool is_print) {
    const char* close = is_print ? "}}" : "%}";
    tokens_.push_back({is_print ? Token::Type::kPrintBegin : Token::Type::kBlockBegin, "",
                       line_of(tag), column_of(tag)});
    size_t first_token = tokens_.size();
    int depth = 0;  // brackets open: a `}}` inside a dict literal does not close the tag
    while (true) {
      while (pos < src_.size() && is_space(src_[pos])) ++pos;
      if (pos >= src_.size()) error(tag, std::string("unterminated tag, expected '") + close + "'");
      if (depth == 0) {
        char sign = src_[pos];
        size_t c = (sign == '-' || sign == '+') ? pos + 1 : pos;
        if (src_.compare(c, 2, close) == 0) {
          tokens_.push_back({is_print ? Token::Type::kPrintEnd : Token::Type::kBlockEnd, "",
                             line_of(pos), column_of(pos)});
          size_t end = after_close(c + 2, c == pos ? '\0' : sign, is_print);
          if (!is_print && tokens_.size() == first_token + 2 &&
              tokens_[first_token].type == Token::Type::kName &&
              tokens_[first_token].text == "raw") {
            return lex_raw(tag, end);
          }
          return end;
        }
      }
      pos = lex_token(pos, depth);
    }
  }

  // {% raw %}...{% endraw %}: the body is text, untouched.
  size_t lex_raw(size_t tag, size_t pos) {
    tokens_.resize(tokens_.size() - 3);  // drop {% raw %}
    size_t search = pos;
    while (true) {
      size_t t = src_.find("{%", search);
      if (t == std::string::npos) error(tag, "missing endraw");
      size_t p = t + 2;
      char open_sign = p < src_.size() ? src_[p] : '\0';
      if (open_sign == '-' || open_sign == '+') ++p;
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (src_.compare(p, 6, "endraw") != 0) {
        search = t + 2;
        continue;
      }
      p += 6;
      while (p < src_.size() && is_space(src_[p])) ++p;
      char sign = src_[p];
      if (sign == '-' || sign == '+') ++p;
      if (src_.compare(p, 2, "%}") != 0) error(t, "malformed endraw");
      std::string body = src_.substr(pos, t - pos);
      if (open_sign == '-') body = rstrip_ws(body);
      emit_text(body, pos);
      return after_close(p + 2, sign == '-' || sign == '+' ? sign : '\0', false);
    }
  }

  size_t lex_token(size_t pos, int& depth) {
    int line = line_of(pos), col = column_of(pos);
    char c = src_[pos];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t e = pos;
      while (e < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) ++e;
      tokens_.push_back({Token::Type::kName, src_.substr(pos, e - pos), line, col});
      return e;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return lex_number(pos);
    if (c == '\'' || c == '"') return lex_string(pos);
    static const char* kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%",
                                 "~", "<", ">", "=", ".", ",", ":", "|", "(", ")", "[", "]",
                                 "{", "}"};
    for (const char* op : kOps) {
      std::string_view o(op);
      if (src_.compare(pos, o.size(), o) == 0) {
        if (o == "(" || o == "[" || o == "{") ++depth;
        if (o == ")" || o == "]" || o == "}") --depth;
        tokens_.push_back({Token::Type::kOperator, std::string(o), line, col});
        return pos + o.size();
      }
    }
    error(pos, std::string("unexpected character '") + c + "'");
  }

  size_t lex_number(size_t pos) {
    int line = line_of(pos), col = column_of(pos);
    size_t e = pos;
    auto digits = [&] {
      while (e < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) ++e;
    };
    digits();
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' && std::isdigit(static_cast<unsigned char>(src_[e + 1]))) {
      is_float = true;
      ++e;
      digits();
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t x = e + 1;
      if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
      if (x < src_.size() && std::isdigit(static_cast<unsigned char>(src_[x]))) {
        is_float = true;
        e = x;
        digits();
      }
    }
    std::string text;
    for (size_t i = pos; i < e; ++i) {
      if (src_[i] != '_') text += src_[i];
    }
    tokens_.push_back({is_float ? Token::Type::kFloat : Token::Type::kInt, text, line, col});
    return e;
  }

  // String literal with Python's escapes (jinja2 decodes them with "unicode-escape").
  size_t lex_string(size_t pos) {
    int line = line_of(pos), col = column_of(pos);
    char quote = src_[pos];
    std::string out;
    size_t i = pos + 1;
    while (true) {
      if (i >= src_.size()) error(pos, "unterminated string");
      char c = src_[i];
      if (c == quote) break;
      if (c != '\\' || i + 1 >= src_.size()) {
        out += c;
        ++i;
        continue;
      }
      char e = src_[i + 1];
      i += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\n': break;  // line continuation
        case 'x': case 'u': case 'U': {
          size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + n > src_.size()) error(i, "truncated \\" + std::string(1, e) + " escape");
          std::string hex = src_.substr(i, n);
          for (char h : hex) {
            if (!std::isxdigit(static_cast<unsigned char>(h))) error(i, "bad \\" + std::string(1, e) + " escape");
          }
          append_utf8(out, static_cast<uint32_t>(std::strtoul(hex.c_str(), nullptr, 16)));
          i += n;
          break;
        }
        default:
          if (e >= '0' && e <= '7') {  // octal, up to three digits
            uint32_t v = e - '0';
            for (int k = 0; k < 2 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++k) {
              v = v * 8 + (src_[i++] - '0');
            }
            append_utf8(out, v);
          } else {  // unknown escapes keep their backslash, as in Python
            out += '\\';
            out += e;
          }
      }
    }
    tokens_.push_back({Token::Type::kString, out, line, col});
    return i + 1;
  }

  std::string src_;
  LexOptions opt_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

// jinja2 reads "\r\n" and "\r" as "\n", in text and in string literals alike.
std::string normalize_newlines(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<Token> lex(const std::string& source, const LexOptions& options) {
  std::string src = normalize_newlines(source);
  if (!options.keep_trailing_newline && !src.empty() && src.back() == '\n') src.pop_back();
  return Lexer(std::move(src), options).run();
}

}  // namespace kestrel::tokenizer::jinja
