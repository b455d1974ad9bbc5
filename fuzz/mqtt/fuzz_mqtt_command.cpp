// libFuzzer: MQTT command handling end to end on the bridge (topic parsing, payload parsing
// against every channel kind, rejection events, rate limit), with the client mocked.
// Input: byte 0 selects the target channel (or a malformed topic), byte 1 bit 0 = retained,
// the rest is the payload.
#include <cstddef>
#include <cstdint>
#include <string>

#include "../../tests/mqtt/mock_client.hpp"
#include "../../tests/mqtt/sample_devices.hpp"
#include "mqtt/bridge.hpp"
#include "mqtt/log.hpp"

using namespace loxcan::mqtt;

namespace {

struct Setup {
  test::MockClient client;
  MqttBridge bridge;
  std::vector<std::string> topics;
  std::int64_t now = 0;
  Setup()
      : bridge(
            MqttOptions{}, client, [](const BridgeCommand&) {}, [this] { return now; }) {
    log()->set_level(
        spdlog::level::off);  // one warning per rejected command would dominate the run
    bridge.set_devices(test::all_devices());
    bridge.start();
    client.connect();
    for (const auto& d : test::all_devices()) {
      for (const auto& c : d.channels)
        topics.push_back("loxcan/" + device_segment(d.info) + "/" + channel_segment(c.spec.name) +
                         "/set");
    }
    topics.push_back("loxcan/nosuch/q1/set");
    topics.push_back("loxcan/bridge/request/raw");
    topics.push_back("loxcan/bridge/request/republish");
    topics.push_back("loxcan/extension-13001234/ai1/get");
    topics.push_back("homeassistant/status");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Setup s;
  if (size < 2) return 0;
  const std::string payload(reinterpret_cast<const char*>(data + 2), size - 2);
  s.now += 1000000;
  if (data[0] == 0xff) {
    // a free-form topic: the rest up to the first NUL is the topic
    const auto nul = payload.find('\0');
    s.client.deliver("loxcan/" + payload.substr(0, nul),
                     nul == std::string::npos ? "" : payload.substr(nul + 1), data[1] & 1);
  } else {
    s.client.deliver(s.topics[data[0] % s.topics.size()], payload, data[1] & 1);
  }
  s.bridge.tick();
  if (s.client.sent.size() > 1000) s.client.sent.clear();  // bound memory over long runs
  return 0;
}
