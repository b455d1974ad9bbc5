// canproto hot paths: classify + decode one frame, the stateful Decoder, and can-utils text.
// Run: build/bench/canproto/bench_canproto   (figures go in README.md, "Performance")
#include <benchmark/benchmark.h>

#include <string>

#include "canproto/candump.hpp"
#include "canproto/crc.hpp"
#include "canproto/decoder.hpp"
#include "frames.hpp"

namespace loxcan::canproto {
namespace {

void BM_ClassifyDecodeFrame(benchmark::State& state) {
  const auto frames = bench::link_frames();
  std::size_t i = 0;
  for (auto _ : state) {
    Message m = decode_frame(frames[i], Bus::link);
    benchmark::DoNotOptimize(m);
    if (++i == frames.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClassifyDecodeFrame);

void BM_DecoderFeed(benchmark::State& state) {
  const auto frames = bench::link_frames();
  Decoder dec(Bus::link);
  std::size_t i = 0;
  std::int64_t t = 0;
  for (auto _ : state) {
    const Decoded& d = dec.feed(frames[i], ++t);
    benchmark::DoNotOptimize(&d);
    if (++i == frames.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecoderFeed);

void BM_ClassifyId(benchmark::State& state) {
  const auto frames = bench::link_frames();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(classify_id(frames[i].id, Bus::link));
    if (++i == frames.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClassifyId);

void BM_ParseLogLine(benchmark::State& state) {
  const std::string line = "(1718445600.123456) can0 10001081#41001500E4570000";
  for (auto _ : state) {
    auto r = parse_log_line(line);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size() + 1));
}
BENCHMARK(BM_ParseLogLine);

void BM_FormatLogLine(benchmark::State& state) {
  Frame f = *parse_log_line("(1718445600.123456) can0 10001081#41001500E4570000");
  char buf[kMaxLogLineText];
  for (auto _ : state) benchmark::DoNotOptimize(format_log_line(f, buf));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FormatLogLine);

void BM_Crc32Stm32Start(benchmark::State& state) {
  const std::uint8_t start[20] = {0x04, 0x10, 0x99, 0,    0,    0,    0, 0,    0, 0,
                                  0,    0,    0x56, 0x34, 0x12, 0x14, 2, 0x14, 0, 1};
  for (auto _ : state) benchmark::DoNotOptimize(crc32_stm32(start));
  state.SetBytesProcessed(state.iterations() * 20);
}
BENCHMARK(BM_Crc32Stm32Start);

}  // namespace
}  // namespace loxcan::canproto

BENCHMARK_MAIN();
