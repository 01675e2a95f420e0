// Each subcommand lives in its own file and adds itself to the CLI through one function listed in
// main.cc's table. Callbacks report user errors by throwing kestrel::Error (exit code 2).
#pragma once

#include <CLI/CLI.hpp>

namespace kestrel::app {

void add_info_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_chat_command(CLI::App& app);

}  // namespace kestrel::app
