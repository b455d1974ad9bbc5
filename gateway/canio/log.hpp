#pragma once
// The transport's logger: spdlog logger "can". If the daemon (or a CLI verb) already created it,
// that one is used; otherwise a stderr logger named "can" is created on first use.

#include <spdlog/logger.h>

#include <memory>

namespace loxcan::canio {

spdlog::logger& log();

}  // namespace loxcan::canio
