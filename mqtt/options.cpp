#include "mqtt/options.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <stdexcept>

#include "mqtt/topics.hpp"

namespace loxcan::mqtt {

namespace {

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

bool starts_with(const std::string& s, std::string_view p) {
  return s.compare(0, p.size(), p) == 0;
}

}  // namespace

std::string normalized_broker_uri(const std::string& uri) {
  if (starts_with(uri, "mqtt://")) return "tcp://" + uri.substr(7);
  if (starts_with(uri, "mqtts://")) return "ssl://" + uri.substr(8);
  if (uri.find("://") != std::string::npos) return uri;
  // bare host[:port]; IPv6 literals may come bracketed ("[::1]:1883") or not ("::1")
  if (!uri.empty() && uri.front() == '[')
    return "tcp://" + uri + (uri.find("]:") == std::string::npos ? ":1883" : "");
  const auto colons = std::count(uri.begin(), uri.end(), ':');
  if (colons == 1) return "tcp://" + uri;
  if (colons > 1) return "tcp://[" + uri + "]:1883";
  return "tcp://" + uri + ":1883";
}

bool uses_tls(const std::string& uri) {
  return starts_with(normalized_broker_uri(uri), "ssl://");
}

std::optional<BrokerAddress> broker_address(const std::string& uri) {
  const std::string u = normalized_broker_uri(uri);
  BrokerAddress a;
  a.tls = starts_with(u, "ssl://");
  if (!a.tls && !starts_with(u, "tcp://")) return std::nullopt;
  std::string_view rest = std::string_view(u).substr(6);
  if (rest.find_first_of("/ \t") != std::string_view::npos) return std::nullopt;
  std::size_t host_end = rest.find(':');
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    a.host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    host_end = 0;
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
  } else {
    a.host = rest.substr(0, host_end);
  }
  if (a.host.empty()) return std::nullopt;
  a.port = a.tls ? 8883 : 1883;
  if (host_end == std::string_view::npos || rest.empty()) return a;
  const std::string_view port = rest.substr(host_end + 1);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc{} || end != port.data() + port.size() || a.port < 1 || a.port > 65535)
    return std::nullopt;
  return a;
}

std::string validate(const MqttOptions& o) {
  const std::string uri = normalized_broker_uri(o.broker);
  if (o.broker.empty()) return "mqtt.broker: is empty";
  if (!starts_with(uri, "tcp://") && !starts_with(uri, "ssl://")) {
    return "mqtt.broker: \"" + o.broker + "\" has an unknown scheme (tcp, mqtt, ssl, mqtts)";
  }
  if (!broker_address(o.broker))
    return "mqtt.broker: \"" + o.broker + "\" is not host[:port] with a port 1..65535";
  if (!uses_tls(uri) &&
      (!o.tls.ca_file.empty() || !o.tls.cert_file.empty() || !o.tls.key_file.empty())) {
    return "mqtt.tls: TLS files are set but the broker URI \"" + o.broker +
           "\" is not ssl:// or mqtts://";
  }
  if (const auto why = check_base_topic(o.base_topic); !why.empty()) {
    return "mqtt.base_topic: \"" + o.base_topic + "\" " + why;
  }
  if (o.homeassistant.enabled) {
    if (const auto why = check_base_topic(o.homeassistant.prefix); !why.empty()) {
      return "mqtt.homeassistant.prefix: \"" + o.homeassistant.prefix + "\" " + why;
    }
  }
  if (o.keepalive_s < 5 || o.keepalive_s > 3600) return "mqtt.keepalive: must be 5..3600 s";
  if (o.reconnect_min_s < 1 || o.reconnect_max_s < o.reconnect_min_s) {
    return "mqtt.reconnect: need 1 <= min <= max seconds";
  }
  if (o.rate_limit.per_second > 0 && o.rate_limit.burst < 1)
    return "mqtt.rate_limit: burst must be >= 1";
  if (o.stats_interval_s < 0) return "mqtt.stats_interval: must be >= 0 (0 = off)";
  if (!o.client_id.empty() && o.client_id.size() > 65535) return "mqtt.client_id: too long";
  return {};
}

std::string effective_client_id(const MqttOptions& o) {
  if (!o.client_id.empty()) return o.client_id;
  std::string id = "loxcan-" + sanitize_segment(hostname());
  if (o.base_topic != "loxcan") id += "-" + sanitize_segment(o.base_topic);
  return id;
}

std::string effective_node_id(const MqttOptions& o) {
  return sanitize_segment(o.node_id.empty() ? hostname() : o.node_id);
}

std::string effective_password(const MqttOptions& o) {
  if (o.password_file.empty()) return o.password;
  std::ifstream in(o.password_file);
  if (!in) throw std::runtime_error("mqtt.password_file: cannot read \"" + o.password_file + "\"");
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace loxcan::mqtt
