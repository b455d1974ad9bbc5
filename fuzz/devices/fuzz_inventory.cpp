// fuzz_inventory: arbitrary bus traffic through the decoder and the inventory, with commands to
// the devices it found interleaved. Input: records of 13 bytes: u32 LE id, u8 time step, 8 bytes.
//   - id bit 30 clear: a frame (bit 31 = it came from the Tree branch interface); the time
//     advances by the step in ms (a step > 250 jumps x100000, past every silence timeout).
//   - id bit 30 set: a command: bytes 0/1 pick a known device and one of its channels, bytes 2..7
//     the value; the frames it produces are encoded.
// The golden traces' frames (fuzz/corpus/fuzz_inventory/) are valid inputs as they are.
//
// A trailing partial record also asks for the JSON inventory.
// Per input: one BusMonitor (cheap); the registry is built once. Each kind of event is formatted
// (text and JSON) once per input, not every event: the formatters are not what this target is
// about, and formatting hundreds of events made every run slow and noisy for the fuzzer.
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <variant>

#include "devices/format.hpp"
#include "devices/monitor.hpp"

using namespace loxcan;

namespace {

constexpr std::size_t kRecord = 13;
constexpr std::uint32_t kTreeBit = 0x80000000u;
constexpr std::uint32_t kCommandBit = 0x40000000u;

// A value of the channel's type from 6 input bytes; numbers span a little beyond the channel's
// range so that out-of-range rejection is reached too.
devices::ChannelValue value_for(const devices::ChannelSpec& spec, const std::uint8_t* b) {
  std::int32_t raw;
  std::memcpy(&raw, b, 4);
  switch (spec.type) {
    case devices::ValueType::boolean: return (b[0] & 1) != 0;
    case devices::ValueType::rgbw: return devices::Rgbw{b[0], b[1], b[2], b[3]};
    case devices::ValueType::bitmask: return static_cast<std::uint32_t>(raw);
    case devices::ValueType::text: return std::string(reinterpret_cast<const char*>(b), 6);
    case devices::ValueType::number: break;
  }
  return spec.min + (spec.max - spec.min) * (raw / 2147483647.0) * 1.1;
}

void command(devices::BusMonitor& mon, const std::uint8_t* data) {
  const auto& list = mon.inventory().devices();
  if (list.empty()) return;
  const auto& dev = list[data[0] % list.size()];
  if (!dev.model || dev.model->channels.empty()) return;
  const auto& ch = dev.model->channels[data[1] % dev.model->channels.size()];
  auto cmd = mon.inventory().command(dev.info.serial, ch.spec.name, value_for(ch.spec, data + 2));
  if (cmd) {
    for (const auto& m : cmd->messages) (void)canproto::encode(m);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto registry = devices::Registry::builtin();
  devices::BusMonitor mon(registry, {std::int64_t{60} * 1'000'000'000});
  mon.set_bus("tree", canproto::Bus::tree);
  std::vector<devices::Event> events;
  std::int64_t ts = 0;
  for (std::size_t off = 0; off + kRecord <= size; off += kRecord) {
    std::uint32_t id;
    std::memcpy(&id, data + off, 4);
    const std::uint8_t step = data[off + 4];
    if (id & kCommandBit) {
      command(mon, data + off + 5);
      continue;
    }
    std::array<std::uint8_t, 8> bytes;
    std::memcpy(bytes.data(), data + off + 5, 8);
    canproto::Frame f = canproto::Frame::make(id & ~kCommandBit, bytes);
    f.iface = canproto::IfaceName((id & kTreeBit) ? "tree" : "can0");
    ts += std::int64_t{step} * 1'000'000 * (step > 250 ? 100000 : 1);
    f.ts_ns = ts;
    mon.feed(f, events);
  }
  mon.finish(ts, events);
  std::bitset<std::variant_size_v<devices::Event>> formatted;
  for (const auto& e : events) {
    if (formatted.test(e.index())) continue;
    formatted.set(e.index());
    (void)devices::format_event(e);
    (void)devices::event_json(e);
  }
  (void)devices::inventory_table(mon.inventory());
  // The JSON inventory costs as much as all the decoding: only when a trailing byte (a length
  // that is not a multiple of 13) asks for it.
  if (size % kRecord != 0) (void)devices::inventory_json(mon.inventory());
  return 0;
}
