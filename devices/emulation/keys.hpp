#pragma once
// The key file: the owner's Loxone CAN authentication constants (LOXONE_CAN.md section 7.2).
//
// They are secret and never in the repository. The owner extracts them from their own
// Miniserver's firmware (see the README) and writes a text file, mode 0600, one key per line
// (`name: value`, which is also valid YAML, or `name = value`):
//
//   # comment lines and blank lines are ignored
//   algo_key:         01234567 89abcdef 01234567 89abcdef   # CryptoCanAlgoKey, 4 x u32 hex
//   algo_iv:          ...                                    # CryptoCanAlgoIV
//   legacy_key:       ...                                    # CryptoCanAlgoLegacyKey
//   legacy_iv:        ...                                    # CryptoCanAlgoLegacyIV
//   master_device_id: 0123456789abcdef01234567               # CryptoMasterDeviceID, 12 bytes
//
// Words are written as the firmware uses them (a 32-bit number each, up to 8 hex digits, optional
// 0x); the device ID as 24 hex digits in byte order. All five keys are required, each once.
//
// Errors (KeyFileError, start-up only) name the file and line: unreadable file, mode not 0600
// (group/other bits set), unknown key, duplicate key, malformed value, missing key.

#include <stdexcept>
#include <string>
#include <string_view>

#include "devices/emulation/crypto.hpp"

namespace loxcan::emulation {

class KeyFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parse key-file text; `origin` names it in errors ("keys.txt").
KeySet parse_key_file(std::string_view text, std::string_view origin);

/// Read and parse `path`, refusing files that group or others can read or write.
KeySet load_key_file(const std::string& path);

/// The text form parse_key_file accepts (used by tests and `--make-keys`-style tooling).
std::string format_key_file(const KeySet& keys);

}  // namespace loxcan::emulation
