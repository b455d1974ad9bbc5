// Emulated devices (every kind) and the simulated Miniserver receive arbitrary frames from the bus
// and must never crash, whatever arrives. Input: records of 13 bytes: 4-byte id (LE), 8 data bytes,
// 1 byte of time to advance (x 16 ms). Both sides also hear each other, as on a real bus.
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

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World w;
  const auto all = w.bus->all();
  Millis now = 0;
  for (std::size_t i = 0; i + 13 <= size; i += 13) {
    canproto::Frame f;
    f.id = (std::uint32_t{data[i]} | std::uint32_t{data[i + 1]} << 8 |
            std::uint32_t{data[i + 2]} << 16 | std::uint32_t{data[i + 3]} << 24) &
           0x1FFFFFFF;
    f.len = 8;
    for (int k = 0; k < 8; ++k) f.data[k] = data[i + 4 + k];
    w.queue.emplace_back(2, f);
    w.deliver(now);
    now += data[i + 12] * 16;
    w.bus->tick(now);
    w.sim->tick(now);
    w.deliver(now);
    all[static_cast<std::size_t>(data[i + 12]) % all.size()]->set_input("i1", true, now);
    (void)w.sim->set_output("touch", "buzzer", (data[i + 12] & 1) != 0, now);
  }
  return 0;
}
