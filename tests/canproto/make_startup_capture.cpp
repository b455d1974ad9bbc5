// Writes the start-up capture (see startup_capture.hpp) to standard output.
#include <cstdio>

#include "startup_capture.hpp"

int main() {
  const std::string text = loxcan::canproto::testing::make_startup_capture();
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
}
