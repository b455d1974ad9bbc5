// Instructions per frame of Decoder::feed + Inventory::feed, per message kind, with callgrind:
//   valgrind --tool=callgrind --toggle-collect='loxcan_bench_feed*' bench_devices_loop di 100000
// Instructions per frame = total Ir / N. Kinds: di ai tree frequency alive di_repeat mix.
// The setup (Start packets, first values) runs outside the collected function.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "canproto/decoder.hpp"
#include "devices/inventory.hpp"
#include "mix.hpp"

using namespace loxcan;

namespace {

struct Bus {
  devices::Registry registry = devices::Registry::builtin();
  devices::Inventory inventory{registry};
  canproto::Decoder decoder{canproto::Bus::link};
  std::vector<devices::Event> events;
  std::int64_t ts = 1718000000LL * 1'000'000'000;
  std::size_t event_count = 0;
};

void feed(Bus& bus, const canproto::Frame& f) {
  bus.ts += 1'000'000;
  bus.events.clear();
  bus.inventory.feed(bus.decoder.feed(f, bus.ts), bus.ts, bus.events);
  bus.event_count += bus.events.size();
}

}  // namespace

// The collected region: N frames, cycling through `frames`.
extern "C" __attribute__((noinline)) void loxcan_bench_feed(
    Bus& bus, const std::vector<canproto::Frame>& frames, long n) {
  for (long k = 0; k < n; ++k) feed(bus, frames[static_cast<std::size_t>(k) % frames.size()]);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s di|ai|tree|frequency|alive|di_repeat|mix N\n", argv[0]);
    return 2;
  }
  const std::string_view kind = argv[1];
  const long n = std::atol(argv[2]);
  std::vector<canproto::Frame> frames;
  if (kind == "mix") frames = devices::bench::mix_frames();
  for (std::size_t k = 0; k < devices::bench::kKindNames.size(); ++k) {
    if (devices::bench::kKindNames[k] != kind) continue;
    auto pair = devices::bench::kind_frames(static_cast<devices::bench::Kind>(k));
    frames = {pair[0], pair[1]};
  }
  if (frames.empty() || n <= 0) {
    std::fprintf(stderr, "unknown kind %s or bad N\n", argv[1]);
    return 2;
  }
  Bus bus;
  for (const auto& f : devices::bench::setup_frames()) feed(bus, f);
  // Warm up (first-value paths, vector capacity) before the collected region.
  for (const auto& f : frames) feed(bus, f);
  bus.event_count = 0;
  loxcan_bench_feed(bus, frames, n);
  std::printf("%s: %ld frames, %zu events, %zu devices\n", argv[1], n, bus.event_count,
              bus.inventory.devices().size());
  return 0;
}
