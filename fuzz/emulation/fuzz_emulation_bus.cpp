// Emulated devices (every kind) and the simulated Miniserver receive arbitrary frames from the bus
// and must never crash, whatever arrives. Both sides also hear each other, as on a real bus.
// Input: records of 13 bytes: u32 LE id, 8 data bytes, 1 byte of time to advance (x 16 ms).
//   - id bit 29 clear: a frame (29-bit id) injected on the bus;
//   - id bit 29 set: an action, byte 0 of the data picks it: even = set an input of an emulated
//     device, odd = set an output on the Miniserver's side; bytes 1/2 pick device and channel,
//     bytes 3..7 the value.
// After each record time advances, both sides tick and the bus is drained. Inputs and outputs
// change only when the input asks (not on every record): per-input work is the input's own.
#include <cstdio>
#include <deque>
#include <memory>

#include "devices/emulation/device.hpp"
#include "devices/emulation/miniserver.hpp"
#include "devices/registry.hpp"

namespace {

using namespace loxcan;
using emulation::Millis;

const devices::Registry& registry() {
  static const devices::Registry reg = devices::Registry::builtin();
  return reg;
}

struct World {
  const devices::Registry& reg = registry();
  std::deque<std::pair<int, canproto::Frame>> queue;
  std::uint32_t rng = 1;
  std::unique_ptr<emulation::EmulatedBus> bus;
  std::unique_ptr<emulation::MiniserverSim> sim;

  emulation::Hooks hooks(int who) {
    emulation::Hooks h;
    h.send = [this, who](const canproto::Frame& f) {
      if (queue.size() < 4096) queue.emplace_back(who, f);
    };
    h.random = [this] { return rng = rng * 1103515245u + 12345u; };
    return h;
  }

  World() {
    bus = std::make_unique<emulation::EmulatedBus>(hooks(0));
    auto setup = [&](const char* model, std::uint32_t serial, bool left = false) {
      emulation::DeviceSetup s;
      s.model = reg.find(model);
      s.serial = serial;
      s.name = model;
      s.auth.keys = &emulation::test_key_set();
      s.left_branch = left;
      return s;
    };
    bus->add_nat_extension(setup("di_extension", 0x14000001));
    bus->add_nat_extension(setup("ao_extension", 0x17000001));
    auto& tree = bus->add_tree_extension(setup("tree_extension", 0x13000001));
    tree.add_device(setup("touch", 0xB0000001, true));
    tree.add_device(setup("rgbw_dimmer", 0xB0000002, false));
    bus->add_legacy_extension(setup("extension", 0x01000001));
    bus->add_legacy_extension(setup("relay_extension", 0x0B000001));
    std::vector<emulation::SimDevice> devs = {
        {reg.find("di_extension"), 0x14000001, "di", "", false},
        {reg.find("tree_extension"), 0x13000001, "tree", "", false},
        {reg.find("touch"), 0xB0000001, "touch", "tree", true},
        {reg.find("relay_extension"), 0x0B000001, "relay", "", false},
    };
    emulation::SimOptions o;
    o.keys = &emulation::test_key_set();
    o.offline_timeout_s = 5;
    sim = std::make_unique<emulation::MiniserverSim>(devs, o, hooks(1));
    bus->start(0);
    sim->start(0);
  }

  void deliver(Millis now) {
    for (int n = 0; n < 10000 && !queue.empty(); ++n) {
      auto [who, f] = queue.front();
      queue.pop_front();
      if (who != 0) bus->on_frame(f, now);
      if (who != 1) sim->on_frame(f, now);
    }
    queue.clear();
  }
};

}  // namespace

namespace {

devices::ChannelValue value_for(const devices::ChannelSpec& spec, const std::uint8_t* b) {
  std::int32_t raw =
      static_cast<std::int32_t>(b[0] | b[1] << 8 | b[2] << 16 | std::uint32_t{b[3]} << 24);
  switch (spec.type) {
    case devices::ValueType::boolean: return (b[0] & 1) != 0;
    case devices::ValueType::rgbw: return devices::Rgbw{b[0], b[1], b[2], b[3]};
    case devices::ValueType::bitmask: return static_cast<std::uint32_t>(raw);
    case devices::ValueType::text: return std::string(reinterpret_cast<const char*>(b), 5);
    case devices::ValueType::number: break;
  }
  return spec.min + (spec.max - spec.min) * (raw / 2147483647.0) * 1.1;
}

// One action record (see the header): an input of an emulated device or an output set by the
// Miniserver, on a device and channel the input picks.
void act(World& w, const std::vector<emulation::Emulated*>& all, const std::uint8_t* d,
         Millis now) {
  emulation::Emulated& dev = *all[d[1] % all.size()];
  const auto& channels = dev.model().channels;
  if (channels.empty()) return;
  const auto& spec = channels[d[2] % channels.size()].spec;
  if ((d[0] & 1) == 0) {
    (void)dev.set_input(spec.name, value_for(spec, d + 3), now);
  } else {
    char serial[9];
    std::snprintf(serial, sizeof serial, "%08X", dev.info().serial);
    (void)w.sim->set_output(serial, spec.name, value_for(spec, d + 3), now);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World w;
  const auto all = w.bus->all();
  Millis now = 0;
  for (std::size_t i = 0; i + 13 <= size; i += 13) {
    const std::uint32_t id = std::uint32_t{data[i]} | std::uint32_t{data[i + 1]} << 8 |
                             std::uint32_t{data[i + 2]} << 16 | std::uint32_t{data[i + 3]} << 24;
    if (id & 0x20000000u) {
      act(w, all, data + i + 4, now);
    } else {
      canproto::Frame f;
      f.id = id & 0x1FFFFFFF;
      f.len = 8;
      for (int k = 0; k < 8; ++k) f.data[k] = data[i + 4 + k];
      w.queue.emplace_back(2, f);
    }
    w.deliver(now);
    now += data[i + 12] * 16;
    w.bus->tick(now);
    w.sim->tick(now);
    w.deliver(now);
  }
  return 0;
}
