// bench_mqtt: what one device event costs on its way to MQTT, and what a command costs on its
// way in. "null" benchmarks use a client that drops messages (pure bridge cost: topic, payload,
// JSON device object, retained cache); "broker" benchmarks go through libmosquitto to a mosquitto
// on 127.0.0.1 started by the benchmark, all on this thread. Figures: README.md section "MQTT".
#include <benchmark/benchmark.h>

#include <memory>

#include "../../tests/mqtt/broker_fixture.hpp"
#include "../../tests/mqtt/sample_devices.hpp"
#include "mqtt/bridge.hpp"
#include "mqtt/mosquitto_client.hpp"

namespace {

using namespace loxcan::mqtt;
using loxcan::devices::ChannelChanged;
using loxcan::devices::Rgbw;

class NullClient final : public MqttClient {
 public:
  void set_handlers(Handlers h) override { handlers = std::move(h); }
  void start() override {}
  void stop() override {}
  PublishResult publish(const Publication& p) override {
    bytes += p.topic.size() + p.payload.size();
    return PublishResult::ok;
  }
  bool subscribe(const std::string&, int) override { return true; }
  bool is_connected() const override { return true; }
  Handlers handlers;
  std::size_t bytes = 0;
};

struct NullBridge {
  explicit NullBridge(bool json_state) {
    MqttOptions o;
    o.json_state = json_state;
    o.node_id = "bench";
    bridge = std::make_unique<MqttBridge>(o, client, [](const BridgeCommand&) {});
    bridge->set_devices(test::all_devices());
    bridge->start();
    client.handlers.connected();
  }
  NullClient client;
  std::unique_ptr<MqttBridge> bridge;
};

void BM_EventNumber(benchmark::State& state) {
  NullBridge b(state.range(0) != 0);
  const auto dev = test::extension().info;
  double v = 0;
  for (auto _ : state) {
    b.bridge->handle(ChannelChanged{dev, "ai1", v, "V", 0});
    v += 0.01;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) ? "flat + json device object" : "flat only");
}
BENCHMARK(BM_EventNumber)->Arg(0)->Arg(1);

void BM_EventRgbw(benchmark::State& state) {
  NullBridge b(true);
  const auto dev = test::rgbw().info;
  std::uint8_t i = 0;
  for (auto _ : state) {
    b.bridge->handle(ChannelChanged{dev, "rgbw", Rgbw{i, 50, 0, 10}, "", 0});
    i = static_cast<std::uint8_t>((i + 1) % 100);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventRgbw);

void BM_CommandIn(benchmark::State& state) {
  NullBridge b(true);
  MqttOptions o;
  int n = 0;
  const char* payloads[] = {
      "ON", "7.5", R"({"state":"ON","brightness":50,"color":{"r":255,"g":0,"b":0,"w":0}})"};
  const char* topics[] = {"loxcan/extension-13001234/q1/set", "loxcan/extension-13001234/aq1/set",
                          "loxcan/rgbwdimmer-a1b2c3d4/rgbw/set"};
  const int k = static_cast<int>(state.range(0));
  for (auto _ : state) {
    b.client.handlers.message({topics[k], payloads[k], false});
    ++n;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(k == 0 ? "boolean" : k == 1 ? "number" : "rgbw json");
}
BENCHMARK(BM_CommandIn)->Arg(0)->Arg(1)->Arg(2);

void BM_DiscoveryAllDevices(benchmark::State& state) {
  const DiscoveryContext ctx{TopicScheme("loxcan"), "homeassistant", "bench", "0.1.0"};
  const auto devs = test::all_devices();
  for (auto _ : state) {
    for (const auto& d : devs) benchmark::DoNotOptimize(discovery_for_device(ctx, d));
  }
  state.SetItemsProcessed(state.iterations() * 14);  // configs
}
BENCHMARK(BM_DiscoveryAllDevices);

// Through libmosquitto to a real broker on loopback (QoS 0 states): the socket write and one
// loop round per event (as the daemon does per frame) included.
void BM_EventToBroker(benchmark::State& state) {
  test::Mosquitto broker;
  broker.start();
  test::TestLoop loop;
  MqttOptions o;
  o.broker = broker.uri();
  o.node_id = "bench";
  o.json_state = state.range(0) != 0;
  o.client_id = "loxcan-bench";
  MosquittoClient client(o, MqttBridge::will(o), loop.reactor());
  MqttBridge bridge(o, client, [](const BridgeCommand&) {});
  bridge.set_devices(test::all_devices());
  bridge.start();
  if (!loop.run_until([&] { return bridge.connected(); }, 10000)) {
    state.SkipWithError("no broker connection");
    return;
  }
  const auto dev = test::extension().info;
  double v = 0;
  for (auto _ : state) {
    bridge.handle(ChannelChanged{dev, "ai1", v, "V", 0});
    loop.poll();
    v += 0.01;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(o.json_state ? "flat + json device object" : "flat only");
  bridge.stop();
}
BENCHMARK(BM_EventToBroker)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
