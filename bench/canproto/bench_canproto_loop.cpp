// A plain loop over decode_frame for instruction counting with callgrind:
//   valgrind --tool=callgrind --toggle-collect='loxcan::canproto::decode_frame*'
//   bench_canproto_loop 100000
// Instructions per frame = total Ir / N. Also `log N` parses N log lines (parse_log_line*).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "canproto/decoder.hpp"
#include "frames.hpp"

int main(int argc, char** argv) {
  using namespace loxcan::canproto;
  const bool log = argc > 2 && std::strcmp(argv[1], "log") == 0;
  const long n = std::atol(argv[argc - 1]);
  const auto frames = bench::link_frames();
  std::uint64_t sum = 0;
  if (log) {
    const std::string line = "(1718445600.123456) can0 10001081#41001500E4570000";
    for (long k = 0; k < n; ++k) sum += parse_log_line(line)->data[0];
  } else {
    for (long k = 0; k < n; ++k)
      sum += decode_frame(frames[static_cast<std::size_t>(k) % frames.size()], Bus::link).index();
  }
  std::printf("%llu\n", static_cast<unsigned long long>(sum));
  return 0;
}
