#pragma once
// One spdlog logger per subsystem: `can` (transport), `proto` (decoding), `dev` (devices and
// emulation), `mqtt`, `disc` (discovery, Cloud DNS), `gw` (the daemon itself).
//
// Lines go to stderr. Under systemd (JOURNAL_STREAM set, i.e. stderr is the journal) lines carry
// no timestamp, since the journal adds its own, but a syslog priority prefix (<3>, <4>, ...) so
// `journalctl -p warning` works; otherwise lines carry a local timestamp.

#include <spdlog/spdlog.h>

#include <map>
#include <string>

namespace loxcan::wiring {

inline constexpr const char* kSubsystems[] = {"can", "proto", "dev", "mqtt", "disc", "gw"};

struct LogLevels {
  spdlog::level::level_enum base = spdlog::level::info;
  std::map<std::string, spdlog::level::level_enum> per_subsystem;  ///< overrides `base`
};

/// Creates (or re-configures, on reload) the subsystem loggers.
void setup_logging(const LogLevels& levels);

/// True when stderr is connected to the journal (JOURNAL_STREAM names our stderr).
bool stderr_is_journal();

/// "trace", "debug", "info", "warning"/"warn", "error", "critical", "off" -> level; nullopt-like
/// false return for anything else.
bool parse_level(const std::string& text, spdlog::level::level_enum& out);

}  // namespace loxcan::wiring
