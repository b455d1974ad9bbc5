// decode_frame on arbitrary frames (any id, flags, length, bus). Invariants: never crashes; every
// result encodes back to exactly the input frame (typed messages via their residue, unknown and
// malformed ones by keeping the frame); field visitors run on every body.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>

#include "canproto/message.hpp"

using namespace loxcan::canproto;

namespace {

struct NullVisitor {
  std::uint64_t sink = 0;
  void num(std::string_view, std::uint64_t v) { sink += v; }
  void sint(std::string_view, std::int64_t v) { sink += static_cast<std::uint64_t>(v); }
  void real(std::string_view, double v) { sink += v == v ? 1 : 0; }
  void flag(std::string_view, bool v) { sink += v; }
  void hex(std::string_view, std::uint32_t v, int) { sink += v; }
  void text(std::string_view, std::string_view v) { sink += v.size(); }
  void bytes(std::string_view, std::span<const std::uint8_t> b) { sink += b.size(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 6) return 0;
  Frame f;
  std::uint32_t id;
  std::memcpy(&id, data, 4);
  const std::uint8_t flags = data[4];
  f.extended = (flags & 1) == 0;
  f.rtr = (flags & 2) != 0;
  f.error = (flags & 4) != 0;
  f.fd = (flags & 8) != 0;
  const Bus bus = (flags & 16) ? Bus::tree : Bus::link;
  f.id = id & (f.extended ? 0x1FFFFFFFu : 0x7FFu);
  f.len = static_cast<std::uint8_t>(std::min({std::size_t{data[5]}, size - 6, kMaxFdData}));
  std::memcpy(f.data.data(), data + 6, f.len);

  const Message m = decode_frame(f, bus);
  NullVisitor v;
  if (const auto* n = std::get_if<NatMessage>(&m)) {
    std::visit([&](const auto& b) { b.visit(v); }, n->body);
    (void)nat_command_name(nat_command(n->body));
  } else if (const auto* l = std::get_if<LegacyMessage>(&m)) {
    std::visit([&](const auto& b) { b.visit(v); }, l->body);
    (void)legacy_command_name(legacy_command(l->body), l->addr.type);
  }
  auto again = encode(m);
  if (!again.ok() || again->size() != 1 || !same_content(again->front(), f)) std::abort();
  return 0;
}
