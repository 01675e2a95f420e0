// kestrel: one binary, one subcommand per file (commands.h).
#include <cstdio>
#include <exception>

#include "commands.h"
#include "core/error.h"

namespace {

constexpr int kUsageError = 2;

using AddCommand = void (*)(CLI::App&);
constexpr AddCommand kCommands[] = {
    kestrel::app::add_info_command,
    kestrel::app::add_tokenize_command,
    kestrel::app::add_run_command,
    kestrel::app::add_chat_command,
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kestrel: run large language models fast on CPUs and GPUs", "kestrel"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "kestrel 0.1.0");
  for (AddCommand add : kCommands) add(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "kestrel: %s (see kestrel --help)\n", e.what());
    return kUsageError;
  } catch (const kestrel::Error& e) {
    std::fprintf(stderr, "kestrel: error: %s\n", e.what());
    return kUsageError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kestrel: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
