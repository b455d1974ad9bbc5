// libFuzzer: MQTT command handling end to end on the bridge (topic parsing, payload parsing
// against every channel kind, rejection events, rate limit, bridge requests, identify), and what
// the broker sends on Home Assistant topics (old-mode configs to migrate, the sync marker, HA's
// birth), with the client mocked. Input: a sequence of topic + payload messages:
//   byte 0: the topic: one of the bridge's command topics (index modulo their number), or 0xff /
//           0xfe for a free-form topic ("loxcan/" / "homeassistant/" + the payload up to its
//           first NUL; the rest is the payload);
//   byte 1: bit 0 = retained, bit 1 = another message follows: then byte 2 is this payload's
//           length and the next message starts after it; else the payload is the rest.
// The bridge is built and connected once (that publishes every discovery document: 20 times the
// cost of an input). Between inputs its state is reset cheaply: the clock jumps two minutes
// (every rate-limit bucket is full again, deferred commands go out, stats are due; a jump of an
// hour overflowed the int64 clock after 2.56 M runs), raw forwarding is switched off
// again, and what the mock client recorded is dropped, so an input's allocations do not pile up
// (a growing heap made libFuzzer's leak check dominate every run). What remains shared is the
// retained-value cache (it only decides whether an unchanged value is sent again).
#include <cstddef>
#include <cstdint>
#include <string>

#include "../../tests/mqtt/mock_client.hpp"
#include "../../tests/mqtt/sample_devices.hpp"
#include "mqtt/bridge.hpp"
#include "mqtt/log.hpp"

using namespace loxcan::mqtt;

namespace {

const std::vector<BridgeDevice>& devices() {
  static const std::vector<BridgeDevice> all = [] {
    auto list = test::all_devices();
    list[0].identify = true;
    return list;
  }();
  return all;
}

std::vector<std::string> command_topics() {
  std::vector<std::string> topics;
  for (const auto& d : devices()) {
    for (const auto& c : d.channels)
      topics.push_back("loxcan/" + device_segment(d.info) + "/" + channel_segment(c.spec.name) +
                       "/set");
  }
  topics.push_back("loxcan/nosuch/q1/set");
  topics.push_back("loxcan/bridge/request/raw");
  topics.push_back("loxcan/bridge/request/republish");
  topics.push_back("loxcan/extension-13001234/ai1/get");
  topics.push_back("homeassistant/status");
  topics.push_back("loxcan/extension-13001234/identify/set");
  topics.push_back("loxcan/bridge/discovery-sync");
  topics.push_back("homeassistant/switch/loxcan_13001234/q1/config");
  topics.push_back("homeassistant/sensor/loxcan_bridge_fuzz/busload/config");
  topics.push_back("homeassistant/device/loxcan_13001234/config");
  return topics;
}

MqttOptions fuzz_options() {
  MqttOptions o;
  o.node_id = "fuzz";
  return o;
}

struct Session {
  test::MockClient client;
  std::int64_t now = 0;
  MqttBridge bridge;
  Session()
      : bridge(
            fuzz_options(), client, [](const BridgeCommand&) {}, [this] { return now; }) {
    bridge.set_devices(devices());
    bridge.start();
    client.connect();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> topics = [] {
    log()->set_level(
        spdlog::level::off);  // one warning per rejected command would dominate the run
    return command_topics();
  }();
  static Session s;
  s.now += std::int64_t{120} * 1'000'000'000;
  s.bridge.tick();
  for (auto dir : {RawDirection::rx, RawDirection::tx, RawDirection::unknown})
    s.bridge.set_raw_enabled(dir, false);
  s.client.sent.clear();
  std::size_t off = 0;
  while (off + 2 <= size) {
    const std::uint8_t selector = data[off];
    const std::uint8_t flags = data[off + 1];
    off += 2;
    std::size_t len = size - off;
    if ((flags & 2) && off < size) len = std::min<std::size_t>(data[off++], size - off);
    const std::string payload(reinterpret_cast<const char*>(data + off), len);
    off += len;
    s.now += 1000000;
    if (selector >= 0xfe) {
      const auto nul = payload.find('\0');
      s.client.deliver((selector == 0xff ? "loxcan/" : "homeassistant/") + payload.substr(0, nul),
                       nul == std::string::npos ? "" : payload.substr(nul + 1), flags & 1);
    } else {
      s.client.deliver(topics[selector % topics.size()], payload, flags & 1);
    }
    s.bridge.tick();
    if (!(flags & 2)) break;
  }
  s.client.sent.clear();
  return 0;
}
