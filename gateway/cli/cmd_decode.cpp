// Placeholder until the canproto issue lands `loxcan decode`.
#include <sysexits.h>

#include <cstdio>

#include "gateway/cli/commands.hpp"

namespace loxcan::cli {

int run_decode(int, char**) {
  std::fprintf(stderr, "loxcan decode: not built yet\n");
  return EX_UNAVAILABLE;
}

}  // namespace loxcan::cli
