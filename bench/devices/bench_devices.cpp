// The daemon's per-frame path after CAN receive: canproto::Decoder::feed + devices::Inventory::feed
// (and dropping the events, as the daemon does after publishing them), per hot message kind.
// Run: build/bench/devices/bench_devices   (figures go in README.md, "Performance")
#include <benchmark/benchmark.h>

#include "canproto/decoder.hpp"
#include "devices/inventory.hpp"
#include "mix.hpp"

namespace loxcan::devices::bench {
namespace {

struct Bus {
  Registry registry = Registry::builtin();
  Inventory inventory{registry};
  canproto::Decoder decoder{canproto::Bus::link};
  std::vector<Event> events;
  std::int64_t ts = 1718000000LL * 1'000'000'000;

  Bus() {
    for (const auto& f : setup_frames()) feed(f);
  }
  void feed(const canproto::Frame& f) {
    ts += 1'000'000;
    events.clear();
    inventory.feed(decoder.feed(f, ts), ts, events);
  }
};

void run(benchmark::State& state, const std::vector<canproto::Frame>& frames) {
  Bus bus;
  std::size_t i = 0, events = 0;
  for (auto _ : state) {
    bus.feed(frames[i]);
    events += bus.events.size();
    if (++i == frames.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["events/frame"] =
      benchmark::Counter(static_cast<double>(events) / static_cast<double>(state.iterations()));
}

void BM_Feed(benchmark::State& state) {
  const auto k = static_cast<Kind>(state.range(0));
  const auto pair = kind_frames(k);
  state.SetLabel(std::string(kKindNames[static_cast<std::size_t>(k)]));
  run(state, {pair[0], pair[1]});
}
BENCHMARK(BM_Feed)->DenseRange(0, static_cast<int>(kKindNames.size()) - 1);

void BM_FeedMix(benchmark::State& state) {
  run(state, mix_frames());
}
BENCHMARK(BM_FeedMix);

}  // namespace
}  // namespace loxcan::devices::bench

BENCHMARK_MAIN();
