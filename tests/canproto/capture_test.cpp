// The committed start-up capture: up to date with its generator, and clean when decoded.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "canproto/candump.hpp"
#include "canproto/decoder.hpp"
#include "field_map.hpp"
#include "startup_capture.hpp"

namespace loxcan::canproto {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kPath = std::string(TEST_DATA_DIR) + "/captures/startup.log";

TEST(StartupCapture, CommittedFileMatchesItsGenerator) {
  EXPECT_EQ(read_file(kPath), testing::make_startup_capture())
      << "regenerate: canproto_make_capture > tests/data/captures/startup.log";
}

TEST(StartupCapture, DecodesCleanly) {
  std::ifstream in(kPath);
  LogReader reader(in);
  Decoder dec(Bus::link);
  Frame f;
  ParseError e;
  std::map<std::string, int> packets;  // cmd name -> count
  int frames = 0, nat = 0, legacy = 0;
  std::int64_t last_ts = 0;
  std::vector<double> touch_temps;
  while (true) {
    const auto s = reader.next(f, e);
    if (s == LogReader::Status::end) break;
    ASSERT_EQ(s, LogReader::Status::frame) << format_error(e, kPath);
    ++frames;
    EXPECT_GT(f.ts_ns, last_ts) << "line " << reader.line_number();
    last_ts = f.ts_ns;
    const Decoded& d = dec.feed(f, f.ts_ns);
    ASSERT_TRUE(std::holds_alternative<NatMessage>(d.message) ||
                std::holds_alternative<LegacyMessage>(d.message))
        << "line " << reader.line_number();
    nat += std::holds_alternative<NatMessage>(d.message);
    legacy += std::holds_alternative<LegacyMessage>(d.message);
    EXPECT_EQ(d.fragment_problem, nullptr) << "line " << reader.line_number();
    EXPECT_FALSE(d.abandoned.has_value()) << "line " << reader.line_number();
    if (const auto* n = std::get_if<NatMessage>(&d.message)) {
      const auto* a = std::get_if<AnalogValue>(&n->body);
      if (a != nullptr && n->addr.device_nat == 0x41 && a->index == 0)
        touch_temps.push_back(a->value());
    }
    if (d.packet) {
      ASSERT_TRUE(d.packet->crc_ok()) << "line " << reader.line_number();
      ASSERT_TRUE(std::holds_alternative<NatMessage>(*d.packet_message));
      const auto& body = std::get<NatMessage>(*d.packet_message).body;
      EXPECT_FALSE(std::holds_alternative<NatOpaquePacket>(body))
          << "line " << reader.line_number();
      ++packets[nat_command_name(nat_command(body))];
    }
  }
  EXPECT_EQ(dec.pending_packets(), 0u);
  EXPECT_GT(frames, 150);
  EXPECT_GT(legacy, 20);
  EXPECT_EQ(nat + legacy, frames);
  EXPECT_EQ(packets["start"], 5);   // DI, Tree Extension, Touch, RGBW dimmer, Room Comfort Sensor
  EXPECT_EQ(packets["config"], 4);  // all but the Tree Extension
  EXPECT_EQ(packets["composite_white"], 1);
  EXPECT_EQ(packets["webservice"], 2);
  EXPECT_EQ(packets["challenge_request"], 5);
  EXPECT_EQ(packets["crypt_device_id_reply"], 3);
  EXPECT_EQ(touch_temps, (std::vector<double>{22.5, 22.6}));
  // Realistic timing: the whole start-up takes a few seconds.
  EXPECT_GT(last_ts - 1718445600LL * 1'000'000'000, 3'000'000'000);
  EXPECT_LT(last_ts - 1718445600LL * 1'000'000'000, 10'000'000'000);
}

}  // namespace
}  // namespace loxcan::canproto
