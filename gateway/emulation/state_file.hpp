#pragma once
// The emulation state file (emulation.state_file): what must survive a restart of loxcan. Today
// that is the 12-byte device ID of each emulated Tree device (LOXONE_CAN.md 7.1: the Miniserver
// caches it once per serial; a changed ID fails authorization until its cache is cleared).
//
// Format (YAML, written by loxcan; keep it with the configuration backups):
//   # loxcan emulation state: do not edit while loxcan runs
//   tree_device_ids:
//     B0000001: a1a2a3a4a5a6a7a8a9aaabac     # serial (8 hex digits): 24 hex digits
//
// Errors: load() throws StateFileError naming file:line:column for malformed content; a missing
// file is not an error (empty state). save() writes a temporary file and renames it (atomic),
// mode 0600, and throws StateFileError with the path and errno text when it cannot.

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "devices/emulation/crypto.hpp"

namespace loxcan::emulation {

class StateFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct EmulationState {
  std::map<std::uint32_t, emulation::DeviceId> tree_device_ids;
};

/// Parses state-file text; `origin` names it in errors.
EmulationState parse_state(std::string_view text, std::string_view origin);
/// Reads `path`; a missing file gives an empty state.
EmulationState load_state(const std::string& path);
void save_state(const std::string& path, const EmulationState& state);
std::string format_state(const EmulationState& state);

}  // namespace loxcan::emulation
