#pragma once
// The device registry: type id -> Model, and model name -> Model.
//
// Explicit, no self-registering globals: `Registry::builtin()` builds the table of every device
// type of LOXONE_CAN.md section 8 and returns it by value; the composition root (daemon, CLI verb,
// test) owns it and passes it by const reference. Undocumented types (8.1 "unreleased", "not
// documented") are present with their name and no channels, so a user still sees "touch_pure_co2"
// rather than "unknown_8022". Types outside the table are not in the registry; callers name them
// `unknown_<hex>` (see unknown_model_name()).
//
// Type ids in text (YAML `type:`, `resolve()`): a model name ("touch"), or a hex id with 0x prefix
// ("0x8003", "0x14", "0xB"). Ids 0x1..0xF are legacy types, everything else NAT types.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "devices/model.hpp"

namespace loxcan::devices {

class Registry {
 public:
  /// Every model of LOXONE_CAN.md section 8.
  static Registry builtin();

  const Model* find(Protocol protocol, std::uint16_t type) const;
  const Model* find(std::string_view name) const;

  /// A model name or a 0x-prefixed type id (see the file comment); nullptr when neither.
  const Model* resolve(std::string_view text) const;

  const std::vector<Model>& models() const { return models_; }

 private:
  std::vector<Model> models_;
};

/// "unknown_8015" / "unknown_legacy_e": the model name used for types the registry lacks.
std::string unknown_model_name(Protocol protocol, std::uint16_t type);

/// Parses "0x8003" / "0XB" (hex, 0x prefix required, at most 4 digits).
std::optional<std::uint16_t> parse_type_id(std::string_view text);

}  // namespace loxcan::devices
