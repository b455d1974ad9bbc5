#include "mqtt/log.hpp"

#include <mutex>

namespace loxcan::mqtt {

std::shared_ptr<spdlog::logger> log() {
  static std::mutex mutex;
  static std::shared_ptr<spdlog::logger> logger;
  std::lock_guard lock(mutex);
  if (!logger) {
    logger = spdlog::get("mqtt");
    if (!logger) {
      logger = spdlog::default_logger()->clone("mqtt");
      try {
        spdlog::register_logger(logger);
      } catch (const spdlog::spdlog_ex&) {
        logger = spdlog::get("mqtt");  // someone registered it in between
      }
    }
  }
  return logger;
}

}  // namespace loxcan::mqtt
