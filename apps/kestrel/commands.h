// Each subcommand lives in its own file (info.cc, tokenize.cc, run.cc, ...) and registers the
// function that adds it to the CLI with KESTREL_COMMAND. Callbacks report user errors by throwing
// kestrel::Error, which main() turns into a one-line message and exit code 2.
#pragma once

#include <CLI/CLI.hpp>

namespace kestrel::app {

using AddCommandFn = void (*)(CLI::App& app);

// Registers a subcommand at static-initialization time (the app's sources are linked directly into
// the binary, so every file's registration runs).
struct CommandRegistration {
  CommandRegistration(const char* name, AddCommandFn add);
};

}  // namespace kestrel::app

#define KESTREL_COMMAND(name, fn) \
  static const ::kestrel::app::CommandRegistration kestrel_command_##fn(name, fn)
