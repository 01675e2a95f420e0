// Logging to stderr. Level from KESTREL_LOG (error|warn|info|debug), default warn; set_log_level overrides.
// Never log prompt or completion text at info level or above.
#pragma once

#include "core/error.h"

namespace kestrel {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

LogLevel log_level();
void set_log_level(LogLevel level);
void log_write(LogLevel level, const std::string& message);

template <class... Args>
void log_info(const Args&... args) {
  if (log_level() >= LogLevel::kInfo) log_write(LogLevel::kInfo, str_cat(args...));
}
template <class... Args>
void log_warn(const Args&... args) {
  if (log_level() >= LogLevel::kWarn) log_write(LogLevel::kWarn, str_cat(args...));
}
template <class... Args>
void log_debug(const Args&... args) {
  if (log_level() >= LogLevel::kDebug) log_write(LogLevel::kDebug, str_cat(args...));
}

}  // namespace kestrel
