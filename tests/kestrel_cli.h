// Running the kestrel binary from tests, as a user would: its exit status, and its stdout when a
// test reads what it printed. stderr (progress bars, logs) is discarded.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "test_paths.h"

namespace kestrel::testing {

// Exit status of `kestrel ARGS` (-1 when it did not exit normally); stdout discarded.
inline int run_kestrel(const std::string& args) {
  const std::string cmd = kestrel_binary() + " " + args + " >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The same, with stdout into `out`.
inline int run_kestrel(const std::string& args, std::string& out) {
  const std::string cmd = kestrel_binary() + " " + args + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return -1;
  out.clear();
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace kestrel::testing
