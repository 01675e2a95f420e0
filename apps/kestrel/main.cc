// kestrel: one binary, one subcommand per file (see commands.h).
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "core/error.h"

namespace kestrel::app {
namespace {

constexpr int kUsageError = 2;

std::vector<std::pair<std::string, AddCommandFn>>& registry() {
  static std::vector<std::pair<std::string, AddCommandFn>> commands;
  return commands;
}

}  // namespace

CommandRegistration::CommandRegistration(const char* name, AddCommandFn add) {
  registry().emplace_back(name, add);
}

}  // namespace kestrel::app

int main(int argc, char** argv) {
  using namespace kestrel::app;
  CLI::App app{"kestrel: run large language models fast on CPUs and GPUs", "kestrel"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "kestrel 0.1.0");
  auto commands = registry();
  std::sort(commands.begin(), commands.end());  // --help lists them alphabetically
  for (const auto& [name, add] : commands) add(app);
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
