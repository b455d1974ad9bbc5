// fuzz_inventory: arbitrary bus traffic through the decoder and the inventory, then every output
// channel of every device commanded, every event formatted. Input: records of 13 bytes
// (u32 LE id with bit 31 = "Tree branch", u8 time step in ms, 8 data bytes).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "devices/format.hpp"
#include "devices/monitor.hpp"

using namespace loxcan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto registry = devices::Registry::builtin();
  devices::BusMonitor mon(registry, {std::int64_t{60} * 1'000'000'000});
  mon.set_bus("tree", canproto::Bus::tree);
  std::vector<devices::Event> events;
  std::int64_t ts = 0;
  for (std::size_t off = 0; off + 13 <= size; off += 13) {
    std::uint32_t id;
    std::memcpy(&id, data + off, 4);
    std::array<std::uint8_t, 8> bytes;
    std::memcpy(bytes.data(), data + off + 5, 8);
    canproto::Frame f = canproto::Frame::make(id, bytes);
    f.iface = canproto::IfaceName((id & 0x80000000u) ? "tree" : "can0");
    ts += std::int64_t{data[off + 4]} * 1'000'000 * (data[off + 4] > 250 ? 100000 : 1);
    f.ts_ns = ts;
    mon.feed(f, events);
  }
  mon.finish(ts, events);
  for (const auto& e : events) {
    (void)devices::format_event(e);
    (void)devices::event_json(e);
  }
  (void)devices::inventory_json(mon.inventory());
  (void)devices::inventory_table(mon.inventory());
  for (const auto& r : mon.inventory().devices()) {
    if (!r.model) continue;
    for (const auto& c : r.model->channels) {
      devices::ChannelValue v = c.spec.type == devices::ValueType::boolean
                                    ? devices::ChannelValue{true}
                                : c.spec.type == devices::ValueType::rgbw
                                    ? devices::ChannelValue{devices::Rgbw{100, 0, 50, 1}}
                                    : devices::ChannelValue{c.spec.max};
      auto cmd = mon.inventory().command(r.info.serial, c.spec.name, v);
      if (cmd) {
        for (const auto& m : cmd->messages) (void)canproto::encode(m);
      }
    }
  }
  return 0;
}
