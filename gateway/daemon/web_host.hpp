#pragma once
// GatewayWebHost: the daemon's side of the web view (gateway/web/): answers the pages' questions
// from the Gateway's own state (inventory, device map, ports, MQTT bridge) on the loop thread, and
// sends controls through the MQTT bridge's /set path (MqttBridge::command). Kept out of
// gateway.cpp so that the daemon only holds a web module object and a few sink calls.

#include <chrono>
#include <string>

#include "gateway/web/api.hpp"
#include "mqtt/model.hpp"

namespace loxcan::daemon {

class Gateway;

class GatewayWebHost final : public web::WebHost {
 public:
  explicit GatewayWebHost(Gateway& gw) : gw_(gw), started_(std::chrono::steady_clock::now()) {}

  nlohmann::json devices() override;
  nlohmann::json stats() override;
  nlohmann::json miniservers() override;
  std::pair<std::string, std::string> config_text() override;
  nlohmann::json check_config(std::string_view yaml, std::string_view file) override;
  web::ControlResult control(std::uint32_t serial, const std::string& channel,
                             std::string_view payload) override;

  /// A bus sample every status period (5 s) for the Bus page's 10-minute load graph.
  void sample();

 private:
  mqtt::BridgeDevice bridge_view(std::uint32_t serial);
  Gateway& gw_;
  std::chrono::steady_clock::time_point started_;
  nlohmann::json samples_ = nlohmann::json::array();  ///< [{t, fps, load:{iface: %}}], 120 at most
};

}  // namespace loxcan::daemon
