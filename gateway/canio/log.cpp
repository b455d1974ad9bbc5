#include "gateway/canio/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace loxcan::canio {

spdlog::logger& log() {
  // Not cached: the daemon may replace the logger on reload (drop + create).
  auto logger = spdlog::get("can");
  if (!logger) {
    try {
      logger = spdlog::stderr_color_mt("can");
    } catch (const spdlog::spdlog_ex&) {  // created concurrently by someone else
      logger = spdlog::get("can");
    }
  }
  return *logger;
}

}  // namespace loxcan::canio
