#include "tokenizer/jinja/json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "tokenizer/jinja/strings.h"

namespace kestrel::tokenizer::jinja {
namespace {

void dump_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    uint32_t cp = decode_utf8(s, i);
    char buf[16];
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp < 0x20 || (ensure_ascii && cp >= 0x7F)) {
      if (cp >= 0x10000) {  // a surrogate pair, as Python writes it
        uint32_t v = cp - 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      }
      out += buf;
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  out += '"';
}

class Dumper {
 public:
  explicit Dumper(const JsonOptions& o) : o_(o) {
    pretty_ = o.indent.has_value() || !o.indent_text.empty();
    indent_ = o.indent_text.empty() ? std::string(std::max(0, o.indent.value_or(0)), ' ')
                                    : o.indent_text;
    item_sep_ = o.item_separator.value_or(pretty_ ? "," : ", ");
    key_sep_ = o.key_separator.value_or(": ");
  }

  void dump(std::string& out, const Value& v, int level) {
    switch (v.kind()) {
      case Value::Kind::kNone: out += "null"; return;
      case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
      case Value::Kind::kInt: out += std::to_string(v.as_int()); return;
      case Value::Kind::kFloat: {
        double f = v.as_float();
        out += std::isnan(f) ? "NaN" : std::isinf(f) ? (f > 0 ? "Infinity" : "-Infinity") : float_repr(f);
        return;
      }
      case Value::Kind::kString: dump_string(out, v.as_string(), o_.ensure_ascii); return;
      case Value::Kind::kList: {
        if (v.items().empty()) {
          out += "[]";
          return;
        }
        out += '[';
        for (size_t i = 0; i < v.items().size(); ++i) {
          if (i > 0) out += item_sep_;
          newline(out, level + 1);
          dump(out, v.items()[i], level + 1);
        }
        newline(out, level);
        out += ']';
        return;
      }
      case Value::Kind::kDict: {
        if (v.entries().empty()) {
          out += "{}";
          return;
        }
        std::vector<const std::pair<Value, Value>*> entries;
        for (const auto& e : v.entries()) entries.push_back(&e);
        if (o_.sort_keys) {
          std::stable_sort(entries.begin(), entries.end(),
                           [](const auto* a, const auto* b) { return less(a->first, b->first); });
        }
        out += '{';
        for (size_t i = 0; i < entries.size(); ++i) {
          if (i > 0) out += item_sep_;
          newline(out, level + 1);
          dump_key(out, entries[i]->first);
          out += key_sep_;
          dump(out, entries[i]->second, level + 1);
        }
        newline(out, level);
        out += '}';
        return;
      }
      case Value::Kind::kUndefined:
      case Value::Kind::kNamespace:
      case Value::Kind::kFunction:
        fail("jinja: Object of type ", v.type_name(), " is not JSON serializable");
    }
  }

 private:
  void newline(std::string& out, int level) const {
    if (!pretty_) return;
    out += '\n';
    for (int i = 0; i < level; ++i) out += indent_;
  }
  void dump_key(std::string& out, const Value& k) {
    if (k.is_string()) {
      dump_string(out, k.as_string(), o_.ensure_ascii);
    } else if (k.is_bool() || k.is_none() || k.is_number()) {
      std::string s;
      dump(s, k, 0);
      dump_string(out, s, false);
    } else {
      fail("jinja: keys must be str, int, float, bool or None, not ", k.type_name());
    }
  }

  const JsonOptions& o_;
  bool pretty_ = false;
  std::string indent_, item_sep_, key_sep_;
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}

  Value parse_document() {
    Value v = parse_value();
    skip_ws();
    if (i_ != s_.size()) error("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void error(const char* what) const {
    fail("json: ", what, " at offset ", i_);
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  Value parse_value() {
    skip_ws();
    if (i_ >= s_.size()) error("unexpected end of input");
    char c = s_[i_];
    if (c == '{') return parse_object();
    if (c == '[') return parse_array();
    if (c == '"') return Value(parse_string());
    if (literal("true")) return Value(true);
    if (literal("false")) return Value(false);
    if (literal("null")) return Value::none();
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    error("unexpected character");
  }

  Value parse_object() {
    ++i_;
    Value obj = Value::dict();
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return obj;
    }
    while (true) {
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '"') error("expected a key");
      Value key(parse_string());
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ':') error("expected ':'");
      ++i_;
      obj.set(key, parse_value());  // a repeated key keeps its place and takes the last value
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return obj;
      }
      error("expected ',' or '}'");
    }
  }

  Value parse_array() {
    ++i_;
    List l;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return Value::list(std::move(l));
    }
    while (true) {
      l.push_back(parse_value());
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return Value::list(std::move(l));
      }
      error("expected ',' or ']'");
    }
  }

  uint32_t hex4() {
    if (i_ + 4 > s_.size()) error("truncated \\u escape");
    std::string h(s_.substr(i_, 4));
    char* end = nullptr;
    uint32_t v = static_cast<uint32_t>(std::strtoul(h.c_str(), &end, 16));
    if (end != h.c_str() + 4) error("bad \\u escape");
    i_ += 4;
    return v;
  }

  std::string parse_string() {
    ++i_;
    std::string out;
    while (true) {
      if (i_ >= s_.size()) error("unterminated string");
      char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) error("unterminated string");
      char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            uint32_t lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: error("bad escape");
      }
    }
  }

  Value parse_number() {
    size_t start = i_;
    if (s_[i_] == '-') ++i_;
    bool is_float = false;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '.' || c == 'e' || c == 'E' || c == '+' || (c == '-' && i_ > start)) {
        is_float = true;
      } else if (c < '0' || c > '9') {
        break;
      }
      ++i_;
    }
    std::string text(s_.substr(start, i_ - start));
    char* end = nullptr;
    if (is_float) {
      double d = std::strtod(text.c_str(), &end);
      if (end != text.c_str() + text.size()) error("bad number");
      return Value(d);
    }
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (end != text.c_str() + text.size() || text == "-") error("bad number");
    return Value(static_cast<int64_t>(v));
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::string to_json(const Value& v, const JsonOptions& options) {
  std::string out;
  Dumper(options).dump(out, v, 0);
  return out;
}

Value parse_json(std::string_view text) { return JsonParser(text).parse_document(); }

}  // namespace kestrel::tokenizer::jinja
