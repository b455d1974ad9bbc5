#pragma once
// A realistic Link bus for the devices benchmarks: a DI Extension, an AI Extension and a Tree
// Extension with a Touch Tree, started and with every channel reported once (steady state), then
// the frames of each hot message kind. Every value frame changes exactly one channel (so each
// produces one ChannelChanged event); two frames per kind alternate.
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "canproto/message.hpp"

namespace loxcan::devices::bench {

namespace cp = loxcan::canproto;

inline constexpr std::uint32_t kDi = 0x14111775, kAi = 0x19111776, kTreeExt = 0x13112233,
                               kTouch = 0xC0000001;
inline constexpr std::uint8_t kDiNat = 0x02, kAiNat = 0x03, kTreeNat = 0x01, kTouchNat = 0x41;

enum class Kind { di, ai, tree, frequency, alive, di_repeat };
inline constexpr std::array<std::string_view, 6> kKindNames = {"di",        "ai",    "tree",
                                                               "frequency", "alive", "di_repeat"};

inline void add(std::vector<cp::Frame>& out, std::uint8_t nat, std::uint8_t dev, cp::NatBody body) {
  auto frames = cp::encode(cp::Message{
      cp::NatMessage{{cp::Bus::link, cp::Direction::from_device, nat, dev}, std::move(body), 0}});
  if (!frames) throw std::runtime_error("bench: cannot encode a message");
  for (auto f : *frames) out.push_back(f);
}

inline cp::AnalogValue analog(std::uint8_t index, std::uint8_t flags, std::uint32_t raw) {
  cp::AnalogValue a;
  a.index = index;
  a.flags = flags;
  a.raw = raw;
  return a;
}

/// Start frames (fragmented 0x02 packets) and a first value for every channel the mix touches.
inline std::vector<cp::Frame> setup_frames() {
  std::vector<cp::Frame> out;
  auto start = [&](std::uint8_t nat, std::uint8_t dev, std::uint32_t serial, std::uint16_t type) {
    cp::Start s;
    s.version = 10031108;
    s.serial = serial;
    s.reason = 0x02;
    s.device_type = type;
    s.hw_version = 1;
    add(out, nat, dev, s);
  };
  start(kDiNat, 0, kDi, 0x0014);
  start(kAiNat, 0, kAi, 0x0019);
  start(kTreeNat, 0, kTreeExt, 0x0013);
  start(kTreeNat, kTouchNat, kTouch, 0x8003);
  add(out, kDiNat, 0, cp::DigitalValue{0, 0x4});
  for (std::uint8_t i = 0; i < 20; ++i) add(out, kDiNat, 0, cp::FrequencyValue{i, 0});
  for (std::uint8_t i = 0; i < 4; ++i) add(out, kAiNat, 0, analog(i, 0x05, 5000));
  add(out, kTreeNat, kTouchNat, cp::DigitalValue{0, 0});
  add(out, kTreeNat, kTouchNat, analog(0, 0x15, 22500));
  add(out, kTreeNat, kTouchNat, analog(1, 0x15, 45000));
  return out;
}

/// Two single frames of one kind; feeding them alternately changes one channel each time
/// (Alive changes nothing: it only refreshes last_seen and the config CRC; di_repeat is a DI
/// Extension repeating its inputs unchanged).
inline std::array<cp::Frame, 2> kind_frames(Kind k) {
  std::vector<cp::Frame> f;
  switch (k) {
    case Kind::di:  // i1 toggles, i3 stays on
      add(f, kDiNat, 0, cp::DigitalValue{0, 0x5});
      add(f, kDiNat, 0, cp::DigitalValue{0, 0x4});
      break;
    case Kind::ai:  // ai1 5.000 V <-> 5.010 V
      add(f, kAiNat, 0, analog(0, 0x05, 5010));
      add(f, kAiNat, 0, analog(0, 0x05, 5000));
      break;
    case Kind::tree:  // Touch temperature 22.6 <-> 22.5 degC via the Tree Extension
      add(f, kTreeNat, kTouchNat, analog(0, 0x15, 22600));
      add(f, kTreeNat, kTouchNat, analog(0, 0x15, 22500));
      break;
    case Kind::frequency:  // f4 50 <-> 51 Hz
      add(f, kDiNat, 0, cp::FrequencyValue{3, 50});
      add(f, kDiNat, 0, cp::FrequencyValue{3, 51});
      break;
    case Kind::alive:
      add(f, kDiNat, 0, cp::Alive{5, 0, 0x9C125BF5});
      add(f, kTreeNat, kTouchNat, cp::Alive{5, 0, 0x12345678});
      break;
    case Kind::di_repeat:
      add(f, kDiNat, 0, cp::DigitalValue{0, 0x4});
      add(f, kDiNat, 0, cp::DigitalValue{0, 0x4});
      break;
  }
  return {f.at(0), f.at(1)};
}

/// The first five kinds interleaved: di ai tree frequency alive, twice (10 frames).
inline std::vector<cp::Frame> mix_frames() {
  std::vector<cp::Frame> out;
  for (int round = 0; round < 2; ++round) {
    for (std::size_t k = 0; k < 5; ++k) {
      out.push_back(kind_frames(static_cast<Kind>(k))[static_cast<std::size_t>(round)]);
    }
  }
  return out;
}

}  // namespace loxcan::devices::bench
