#pragma once
// The "mqtt" logger (STYLE.md 11): created on first use from spdlog's default logger, so the
// daemon's sink and level apply; the daemon may register its own "mqtt" logger beforehand.

#include <spdlog/spdlog.h>

#include <memory>

namespace loxcan::mqtt {

std::shared_ptr<spdlog::logger> log();

}  // namespace loxcan::mqtt
