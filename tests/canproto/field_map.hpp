#pragma once
// Test helper: collect a message's fields (via the bodies' visit()) into a name -> value map.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "canproto/message.hpp"

namespace loxcan::canproto::testing {

struct FieldMap {
  std::map<std::string, double> nums;
  std::map<std::string, std::string> str;

  void num_(std::string_view n, double v) { nums[std::string(n)] = v; }
  void num(std::string_view n, std::uint64_t v) { num_(n, double(v)); }
  void sint(std::string_view n, std::int64_t v) { num_(n, double(v)); }
  void real(std::string_view n, double v) { num_(n, v); }
  void flag(std::string_view n, bool v) { num_(n, v ? 1 : 0); }
  void hex(std::string_view n, std::uint32_t v, int) { num_(n, double(v)); }
  void text(std::string_view n, std::string_view v) { str[std::string(n)] = std::string(v); }
  void bytes(std::string_view n, std::span<const std::uint8_t> b) {
    static const char* h = "0123456789ABCDEF";
    std::string s;
    for (auto x : b) {
      s += h[x >> 4];
      s += h[x & 15];
    }
    str[std::string(n)] = s;
  }
};

inline FieldMap fields_of(const Message& m) {
  FieldMap f;
  if (const auto* n = std::get_if<NatMessage>(&m)) {
    f.nums["nat"] = n->addr.nat;
    f.nums["device_nat"] = n->addr.device_nat;
    f.nums["cmd"] = nat_command(n->body);
    std::visit([&](const auto& b) { b.visit(f); }, n->body);
  } else if (const auto* l = std::get_if<LegacyMessage>(&m)) {
    f.nums["type"] = l->addr.type;
    f.nums["address_serial"] = l->addr.serial();
    f.nums["package"] = l->addr.package;
    f.nums["cmd"] = legacy_command(l->body);
    std::visit([&](const auto& b) { b.visit(f); }, l->body);
  }
  return f;
}

}  // namespace loxcan::canproto::testing
