// Errors: one exception type for every failure a user can cause (bad file, bad flag, bad request).
// Its message is one line that names what was wrong; the CLI prints it and exits with code 2.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace kestrel {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates anything that has operator<<.
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(str_cat(args...));
}

}  // namespace kestrel

// Throws kestrel::Error with the concatenated message when cond is false.
#define KESTREL_CHECK(cond, ...)                   \
  do {                                             \
    if (!(cond)) ::kestrel::fail(__VA_ARGS__);     \
  } while (0)
