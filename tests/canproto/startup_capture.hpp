#pragma once
// Builds tests/data/captures/startup.log: a Miniserver start-up on the Link bus, written with
// canproto's own encoder so that every CRC and fragment is right. Deterministic (fixed start time,
// fixed pseudo-random jitter and crypto bytes). Regenerate the committed file with
//   build/tests/canproto/canproto_make_capture > tests/data/captures/startup.log
// (the canproto_test suite fails when the two differ).
//
// Bus contents (NAT ext = extension NAT on Link, dev = device NAT behind the Tree Extension):
//   legacy Extension 01FF0A00, Relay Extension 0BFF0A01;
//   DI Extension 14123456 (NAT 2), Tree Extension 13000A01 (NAT 1) with
//   Touch Tree B0112233 (dev 0x41, left), RGBW 24V Dimmer Tree C0168612 (dev 0x42, left),
//   Room Comfort Sensor Tree B0445566 (dev 0x01, right).
#include <string>

namespace loxcan::canproto::testing {

std::string make_startup_capture();

}  // namespace loxcan::canproto::testing
