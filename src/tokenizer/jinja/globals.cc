// The global functions a chat template may call: Hugging Face's raise_exception() and
// strftime_now(), and jinja2's namespace(), range() and dict().
#include <ctime>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"

namespace kestrel::tokenizer::jinja {
namespace {

Value kwargs_dict(CallArgs& a, const char* callee) {
  Value d = Value::dict();
  for (const Value& p : a.positional) {  // namespace({'a': 1}) and dict({'a': 1})
    KESTREL_CHECK(p.is_dict(), "jinja: ", callee, "() takes a mapping or keyword arguments");
    for (const auto& [k, v] : p.entries()) d.set(k, v);
  }
  for (const auto& [k, v] : a.keyword) d.set(Value(k), v);
  return d;
}

Value range_fn(CallArgs& a) {
  KESTREL_CHECK(a.keyword.empty() && !a.positional.empty() && a.positional.size() <= 3,
                "jinja: range() takes 1 to 3 integer arguments");
  for (const Value& v : a.positional) {
    KESTREL_CHECK(v.is_int() || v.is_bool(), "jinja: range() needs integers, got ", v.type_name());
  }
  int64_t start = 0, stop = 0, step = 1;
  if (a.positional.size() == 1) {
    stop = a.positional[0].as_int();
  } else {
    start = a.positional[0].as_int();
    stop = a.positional[1].as_int();
    if (a.positional.size() == 3) step = a.positional[2].as_int();
  }
  KESTREL_CHECK(step != 0, "jinja: range() arg 3 must not be zero");
  // jinja2's sandbox caps ranges at 100000 items.
  KESTREL_CHECK((stop - start) / step <= 100000, "jinja: range too big");
  List out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.emplace_back(i);
  return Value::list(std::move(out));
}

}  // namespace

Dict make_globals() {
  Dict g;
  g.emplace_back(Value("raise_exception"), Value::function("raise_exception", [](CallArgs& a) -> Value {
    ArgBinder b("raise_exception", a, {"message"});
    fail("chat template error: ", to_str(b.get_or(0, Value(""))));
  }));
  g.emplace_back(Value("strftime_now"), Value::function("strftime_now", [](CallArgs& a) {
    ArgBinder b("strftime_now", a, {"format"});
    std::string fmt = to_str(b.get_or(0, Value("")));
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[512];
    size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &local);
    return Value(std::string(buf, n));
  }));
  g.emplace_back(Value("namespace"), Value::function("namespace", [](CallArgs& a) {
    return Value::namespace_of(kwargs_dict(a, "namespace").entries());
  }));
  g.emplace_back(Value("dict"), Value::function("dict", [](CallArgs& a) { return kwargs_dict(a, "dict"); }));
  g.emplace_back(Value("range"), Value::function("range", range_fn));
  return g;
}

}  // namespace kestrel::tokenizer::jinja
