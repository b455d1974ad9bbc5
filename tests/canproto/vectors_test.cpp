// Golden test: every frame of tests/data/vectors/vectors.yaml (a copy of the protocol research's
// 51 vectors) decodes to the meaning documented in its `decoded:` block. The YAML keys are mapped
// to our field names below; every key is either checked or listed as documentation-only, so a new
// key in the file fails the test until it is handled.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "canproto/candump.hpp"
#include "canproto/crc.hpp"
#include "canproto/decoder.hpp"
#include "field_map.hpp"

namespace loxcan::canproto {
namespace {

using testing::FieldMap;
using testing::fields_of;

// Leading number of a YAML description such as "0x8B (parked: bit7 set)", "22.5", "-5250",
// "0b11 server", "1 left". NaN when there is none.
double leading_number(const std::string& s) {
  const char* p = s.c_str();
  while (*p == ' ') ++p;
  char* end = nullptr;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) return double(std::strtoull(p + 2, &end, 16));
  if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) return double(std::strtoull(p + 2, &end, 2));
  if (s == "true") return 1;
  if (s == "false") return 0;
  const double v = std::strtod(p, &end);
  return end == p ? std::nan("") : v;
}

Direction expected_direction(const std::string& s) {
  if (s.find("0b10") != std::string::npos) return Direction::shortcut;
  if (s.find("server") != std::string::npos || s.find("0b11") != std::string::npos ||
      s.find("to extension") != std::string::npos)
    return Direction::to_device;
  return Direction::from_device;
}

// YAML keys that describe rather than state a decoded field.
const std::set<std::string> kDocumentationOnly = {
    "unit",      "note",       "chunk_index", "data",    "id",          "protocol",
    "direction", "fragmented", "bus_type",    "command", "reassembled", "crc_if_truncated"};

struct Row {
  std::string name;
  YAML::Node decoded;
  const Decoded* result;
};

class VectorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = YAML::LoadFile(std::string(TEST_DATA_DIR) + "/vectors/vectors.yaml");
  }
  static YAML::Node root_;
};
YAML::Node VectorsTest::root_;

// Our name for a YAML key, given the command (some keys mean different fields per command).
std::string our_key(const std::string& key, std::uint8_t cmd, bool legacy) {
  if (key == "ext_nat" || key == "id_nat") return "nat";
  if (key == "hz") return "value";
  if (key == "ms_since_midnight") return "ms_of_day";
  if (key == "firmware") return "version";
  if (key == "payload_size") return "size";
  if (key == "payload_crc") return "crc";
  if (key == "wrapped_command") return "packet_cmd";
  if (key == "value_c") return "value";
  if (key == "b1") return "selector_d1";
  if (key == "serial" && legacy) return "address_serial";
  if (key == "value" && cmd == nat_cmd::kDigitalValue && !legacy) return "bitmask";
  if (key == "branch") return cmd == nat_cmd::kTreeShortcut ? "branch" : "bus";
  if (key == "b0") return cmd == nat_cmd::kTreeShortcut ? "branch" : "branch_flags";
  if (key == "val16") return cmd == nat_cmd::kAlive ? "config_version" : "bus";
  if (key == "val32") return "bitmask";
  return key;
}

int g_fields_checked = 0;

void expect_field(const FieldMap& f, const std::string& key, double want, const std::string& row) {
  ++g_fields_checked;
  auto it = f.nums.find(key);
  ASSERT_NE(it, f.nums.end()) << row << ": decoded message has no field '" << key << "'";
  EXPECT_NEAR(it->second, want, 1e-9) << row << ": field '" << key << "'";
}

void check_reassembled(const YAML::Node& r, const Decoded& d, const std::string& row) {
  ASSERT_TRUE(d.packet.has_value()) << row << ": expected a completed packet";
  ASSERT_TRUE(d.packet->crc_ok()) << row;
  ASSERT_TRUE(d.packet_message.has_value());
  const FieldMap f = fields_of(*d.packet_message);
  if (r.IsScalar()) {  // webservice: "00 0B 'TechReport' 00"
    const auto s = r.as<std::string>();
    const auto q1 = s.find('\''), q2 = s.rfind('\'');
    EXPECT_EQ(f.str.at("text"), s.substr(q1 + 1, q2 - q1 - 1)) << row;
    return;
  }
  for (const auto& kv : r) {
    const auto key = kv.first.as<std::string>();
    const double want = leading_number(kv.second.as<std::string>());
    if (key == "firmware_version")
      expect_field(f, "version", want, row);
    else if (key == "unknown")
      expect_field(f, "version", f.nums.at("version"), row);
    else if (key == "cfg_size")
      expect_field(f, "size", want, row);
    else if (key == "cfg_version")
      expect_field(f, "config_version", want, row);
    else if (key == "offline_timeout_s")
      expect_field(f, "offline_timeout_s", want, row);
    else if (key == "blink_offset")
      expect_field(f, "blink_offset", want, row);
    else if (key == "config_crc_for_alive")
      expect_field(f, "config_crc", want, row);
    else if (key == "frequency_input_mask")
      EXPECT_EQ(f.str.at("device_config"), "03000000") << row;
    else if (key == "filler")
      EXPECT_EQ(d.packet->payload.size(), 16u) << row;
    else
      expect_field(f, key, want, row);
  }
}

TEST_F(VectorsTest, AllFiftyOneDecodeToTheirDocumentedMeaning) {
  const auto vectors = root_["vectors"];
  ASSERT_EQ(vectors.size(), 51u);
  Decoder link(Bus::link), tree(Bus::tree);
  std::int64_t now = 0;
  std::optional<double> truncated_crc;
  int truncated_checked = 0;
  for (const auto& v : vectors) {
    const auto name = v["name"].as<std::string>();
    SCOPED_TRACE(name);
    // The three spellings of the frame agree.
    auto parsed = parse_compact(v["frame"].as<std::string>());
    ASSERT_TRUE(parsed.ok()) << format_error(parsed.error(), name);
    const Frame& frame = *parsed;
    EXPECT_EQ(frame.id, std::stoul(v["id"].as<std::string>(), nullptr, 16));
    EXPECT_EQ(format_compact(frame).substr(9), v["data"].as<std::string>());

    const bool on_tree = v["bus"].as<std::string>() == "tree";
    now += 1'000'000;
    const Decoded& d = (on_tree ? tree : link).feed(frame, now);
    const auto& dec = v["decoded"];
    const auto protocol = dec["protocol"].as<std::string>();
    const bool legacy = protocol.rfind("legacy", 0) == 0;
    if (legacy) {
      ASSERT_TRUE(std::holds_alternative<LegacyMessage>(d.message)) << name;
    } else {
      ASSERT_TRUE(std::holds_alternative<NatMessage>(d.message)) << name;
    }
    const FieldMap f = fields_of(d.message);
    const auto cmd = static_cast<std::uint8_t>(f.nums.at("cmd"));

    if (dec["command"]) {
      EXPECT_EQ(cmd, static_cast<std::uint8_t>(leading_number(dec["command"].as<std::string>())) &
                         (legacy ? 0x7F : 0xFF));
    }
    Direction dir = legacy ? std::get<LegacyMessage>(d.message).addr.dir
                           : std::get<NatMessage>(d.message).addr.dir;
    if (dec["direction"]) {
      EXPECT_EQ(dir, expected_direction(dec["direction"].as<std::string>()));
    }
    EXPECT_EQ(dir, v["dir"].as<std::string>() == "server_to_device" ? Direction::to_device
                   : dir == Direction::shortcut                     ? Direction::shortcut
                                                                    : Direction::from_device);
    if (dec["fragmented"]) {
      EXPECT_EQ((frame.id & kNatFragmentBit) != 0, dec["fragmented"].as<bool>());
    }
    if (dec["bus_type"]) {
      EXPECT_EQ(frame.id >> 24, leading_number(dec["bus_type"].as<std::string>()));
    }
    // No residue: every byte of every vector is covered by a typed layout.
    if (!legacy) {
      EXPECT_EQ(std::get<NatMessage>(d.message).residue, 0u);
    }
    if (legacy) {
      EXPECT_EQ(std::get<LegacyMessage>(d.message).residue, 0u);
    }

    for (const auto& kv : dec) {
      const auto key = kv.first.as<std::string>();
      if (kDocumentationOnly.count(key) != 0) continue;
      if (key == "volts" || (key == "raw" && kv.second.IsSequence())) {
        for (std::size_t k = 0; k < kv.second.size(); ++k) {
          const double want = kv.second[k].as<double>() / (key == "raw" ? 100.0 : 1.0);
          expect_field(f, "value" + std::to_string(k + 1), want, name);
        }
        continue;
      }
      expect_field(f, our_key(key, cmd, legacy), leading_number(kv.second.as<std::string>()), name);
    }
    if (dec["reassembled"]) check_reassembled(dec["reassembled"], d, name);
    // Stated on the header frame, checkable once the packet is complete.
    if (dec["crc_if_truncated"])
      truncated_crc = leading_number(dec["crc_if_truncated"].as<std::string>());
    if (d.packet && truncated_crc) {
      EXPECT_EQ(crc32_stm32_truncated(d.packet->payload), *truncated_crc);
      EXPECT_EQ(d.packet->match, CrcMatch::padded);
      truncated_crc.reset();
      ++truncated_checked;
    }
    // Nothing else went wrong on the way.
    EXPECT_EQ(d.fragment_problem, nullptr);
    EXPECT_FALSE(d.abandoned.has_value());
  }
  EXPECT_EQ(link.pending_packets(), 0u);
  EXPECT_EQ(truncated_checked, 1);
  // The YAML states 187 decoded fields besides the documentation-only keys; all were compared.
  EXPECT_EQ(g_fields_checked, 187);
}

TEST_F(VectorsTest, EveryVectorReencodesToItsBytes) {
  for (const auto& v : root_["vectors"]) {
    const auto name = v["name"].as<std::string>();
    auto frame = parse_compact(v["frame"].as<std::string>());
    ASSERT_TRUE(frame.ok());
    const Bus bus = v["bus"].as<std::string>() == "tree" ? Bus::tree : Bus::link;
    const Message m = decode_frame(*frame, bus);
    auto again = encode(m);
    ASSERT_TRUE(again.ok()) << name;
    ASSERT_EQ(again->size(), 1u) << name;
    EXPECT_TRUE(same_content(again->front(), *frame))
        << name << ": " << format_compact(again->front());
  }
}

}  // namespace
}  // namespace loxcan::canproto
