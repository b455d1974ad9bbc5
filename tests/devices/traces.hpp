#pragma once
// The bus sessions behind the golden traces in tests/data/traces/, built from the documented frame
// layouts with canproto's encoder (so every fragment CRC, NAT and id is computed, not typed in).
// make_traces writes them as candump logs; trace_builder_test checks the committed logs still
// equal what these functions build.

#include <string>
#include <vector>

#include "canproto/frame.hpp"

namespace loxcan::testing {

struct Trace {
  std::string name;  ///< file stem in tests/data/traces/
  std::string comment;
  std::vector<canproto::Frame> frames;
};

/// Miniserver start-up with a DI Extension (configured) and a second, unknown DI Extension
/// (parked).
Trace startup_di_trace();
/// A Tree Extension with a Touch, a Room Comfort Sensor and RGBW 24V Dimmers on both branches;
/// values both ways, a Tree shortcut, then a Miniserver restart that hands out new NATs.
Trace tree_trace();
/// A legacy Extension and a Relay Extension: start-up, inputs, outputs, an undocumented DALI
/// Extension, then the Relay Extension falls silent.
Trace legacy_trace();

std::vector<Trace> all_traces();

/// "(secs.usec) can0 ID#DATA" lines, with the comment as '#' lines on top.
std::string to_log(const Trace& trace);

}  // namespace loxcan::testing
