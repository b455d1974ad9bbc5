#pragma once
// A scripted MqttClient for unit tests: records publishes and subscriptions, lets the test
// connect/disconnect and deliver messages, and behaves like a broker's retained store.

#include <map>
#include <string>
#include <vector>

#include "mqtt/client.hpp"

namespace loxcan::mqtt::test {

class MockClient final : public MqttClient {
 public:
  void set_handlers(Handlers h) override { handlers = std::move(h); }
  void start() override { started = true; }
  void stop() override {
    started = false;
    up = false;
  }
  PublishResult publish(const Publication& p) override {
    if (!up || refuse_publish) return PublishResult::not_connected;
    sent.push_back(p);
    // The bridge's sync marker comes back like from a broker (after the handler returns).
    if (echo_sync && p.topic.size() > 15 &&
        p.topic.compare(p.topic.size() - 15, 15, "/discovery-sync") == 0) {
      echoes.push_back(p);
    }
    if (p.retain) {
      if (p.payload.empty())
        store.erase(p.topic);
      else
        store[p.topic] = p.payload;
    }
    return PublishResult::ok;
  }
  bool subscribe(const std::string& filter, int qos) override {
    subscriptions.emplace_back(filter, qos);
    return true;
  }
  bool is_connected() const override { return up; }
  ClientCounters counters() const override { return held; }

  // test controls
  void connect() {
    up = true;
    subscriptions.clear();
    handlers.connected();
    pump();
  }
  /// Delivers the queued echoes (the broker routing the bridge's own marker back).
  void pump() {
    auto queued = std::move(echoes);
    echoes.clear();
    for (auto& p : queued) handlers.message({p.topic, p.payload, false});
  }
  void lose(bool wipe_store = false) {
    up = false;
    if (wipe_store) store.clear();  // a broker restarted without persistence
    handlers.lost("test");
  }
  void deliver(std::string topic, std::string payload, bool retained = false) {
    handlers.message({std::move(topic), std::move(payload), retained});
  }
  std::vector<Publication> on(const std::string& topic) const {
    std::vector<Publication> out;
    for (const auto& p : sent) {
      if (p.topic == topic) out.push_back(p);
    }
    return out;
  }
  std::string last(const std::string& topic) const {
    auto v = on(topic);
    return v.empty() ? std::string("<none>") : v.back().payload;
  }

  Handlers handlers;
  bool started = false;
  bool up = false;
  ClientCounters held;          ///< what counters() reports (a client's publish backlog)
  bool refuse_publish = false;  ///< the connection just dropped, the lost handler has not run yet
  std::vector<Publication> sent;
  std::vector<std::pair<std::string, int>> subscriptions;
  bool echo_sync = true;
  std::vector<Publication> echoes;
  std::map<std::string, std::string> store;  ///< retained store, like a broker's
};

}  // namespace loxcan::mqtt::test
