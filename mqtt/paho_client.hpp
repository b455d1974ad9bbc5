#pragma once
// PahoClient: MqttClient on top of Eclipse Paho MQTT C++ (async_client, Debian libpaho-mqttpp3).
//
// Policy set once here (STYLE.md 9): no Paho persistence and no Paho offline buffering (the bridge
// keeps its own bounded buffer and retained-state cache), clean session/clean start, keepalive and
// automatic reconnect with exponential backoff from MqttOptions (Paho also retries the very first
// connect), a retained last will, user/password, TLS (CA, client cert/key, insecure), MQTT 3.1.1 or 5.
//
// Paho calls back on its own threads; this class only copies the data and hands a closure to
// `post` (the daemon passes its loop's thread-safe post()). Closures posted after stop() or after
// destruction do nothing.
//
// Throws std::invalid_argument (bad URI / options) from the constructor and std::runtime_error
// (unreadable password_file) from start(); both are start-up errors.

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "mqtt/client.hpp"
#include "mqtt/options.hpp"

namespace mqtt {
class async_client;
}

namespace loxcan::mqtt {

class PahoClient final : public MqttClient {
 public:
  using Executor = std::function<void(std::function<void()>)>;

  PahoClient(const MqttOptions& options, Publication will, Executor post);
  ~PahoClient() override;
  PahoClient(const PahoClient&) = delete;
  PahoClient& operator=(const PahoClient&) = delete;

  void set_handlers(Handlers h) override;
  void start() override;
  void stop() override;
  PublishResult publish(const Publication& p) override;
  bool subscribe(const std::string& filter, int qos) override;
  bool is_connected() const override;

 private:
  struct Shared;  // handlers + alive flag, shared with closures in flight
  MqttOptions options_;
  Publication will_;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<::mqtt::async_client> client_;
  bool started_ = false;
};

}  // namespace loxcan::mqtt
