// make_traces DIR: writes the golden input traces (tests/data/traces/*.log) from traces.cpp.
#include <cstdio>
#include <fstream>

#include "tests/devices/traces.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_traces DIR\n");
    return 64;
  }
  for (const auto& t : loxcan::testing::all_traces()) {
    const std::string path = std::string(argv[1]) + "/" + t.name + ".log";
    std::ofstream(path, std::ios::binary) << loxcan::testing::to_log(t);
    std::printf("%s: %zu frames\n", path.c_str(), t.frames.size());
  }
  return 0;
}
