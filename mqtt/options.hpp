#pragma once
// MqttOptions: everything the MQTT layer needs from the configuration, as a plain struct.
//
// The YAML loader (gateway/config, section `mqtt:`) fills this struct; on a LoxBerry the broker
// fields may instead come from `$LBSCONFIG/general.json` (see mqtt/loxberry.hpp). Defaults follow
// CONVENTIONS.md section 4: base topic `loxcan`, MQTT 3.1.1, retained states, HA discovery on.
//
// Broker URIs accepted: `tcp://host:port`, `mqtt://host:port` (= tcp), `ssl://host:port`,
// `mqtts://host:port` (= ssl), or a bare `host[:port]` (= tcp, port 1883); IPv6 literals in
// brackets. TLS is used exactly when the scheme is ssl/mqtts. MQTT over WebSockets (ws://, wss://)
// is not offered: libmosquitto's client does not speak it, and a gateway next to its broker has no
// use for it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace loxcan::mqtt {

enum class ProtocolVersion : std::uint8_t { v311, v5 };

struct TlsOptions {
  std::string ca_file;    ///< PEM CA bundle; empty = system default trust store
  std::string cert_file;  ///< client certificate (PEM), optional
  std::string key_file;   ///< its private key (PEM), optional; defaults to cert_file's key
  bool insecure =
      false;  ///< skip server certificate and host name checks (LoxBerry's local TLS listener)
};

/// Which raw CAN frames go to `<base>/bridge/raw/{rx,tx,unknown}` as candump log lines.
struct RawOptions {
  bool rx = false;
  bool tx = false;
  bool unknown = true;
};

struct HomeAssistantOptions {
  bool enabled = true;
  std::string prefix = "homeassistant";
};

/// Commands from MQTT towards the bus, per device: a token bucket. Commands over the limit are
/// not lost: the newest value per channel is kept and delivered when the bucket refills.
struct RateLimitOptions {
  double per_second = 10;  ///< sustained commands per second per device; <= 0: unlimited
  unsigned burst = 20;     ///< bucket size (>= 1)
};

struct MqttOptions {
  std::string broker = "tcp://localhost:1883";
  std::string client_id;  ///< empty: `loxcan-<hostname>` (plus `-<base>` when base != loxcan)
  std::string username;   ///< empty: connect without login
  std::string password;
  std::string password_file;  ///< first line is the password; overrides `password`
  TlsOptions tls;
  ProtocolVersion protocol = ProtocolVersion::v311;
  int keepalive_s = 60;
  int reconnect_min_s = 1;  ///< automatic reconnect backoff, doubled per failed attempt
  int reconnect_max_s = 60;

  std::string base_topic = "loxcan";  ///< may contain '/', no wildcards, no spaces, no '%'
  bool json_state = true;             ///< also publish `<base>/<device>` as one JSON object
  bool retain_states = true;          ///< retain `<base>/<device>/<channel>` (CONVENTIONS 4.6)
  RawOptions raw;
  HomeAssistantOptions homeassistant;
  RateLimitOptions rate_limit;
  std::size_t offline_buffer = 1000;  ///< non-retained messages kept while the broker is away
  int stats_interval_s = 60;          ///< `<base>/bridge/stats/*` period; 0 = off; 1..9 act as 10
  std::string node_id;  ///< bridge id in HA ids (`loxcan_bridge_<node_id>`); empty: hostname
};

/// Checks ranges and names. Returns "" when valid, else one message naming the field, e.g.
/// `mqtt.base_topic: "a b" contains a space`.
std::string validate(const MqttOptions& o);

/// The `tcp://host:port` / `ssl://host:port` form (logs, status); bare `host[:port]` gets
/// `tcp://` and port 1883.
std::string normalized_broker_uri(const std::string& uri);

/// True when the (normalized) URI asks for TLS.
bool uses_tls(const std::string& uri);

/// Where to connect. `host` is a name or an address (IPv6 without its brackets).
struct BrokerAddress {
  std::string host;
  int port = 1883;
  bool tls = false;
};

/// The address of a broker URI in any accepted form; a missing port is 1883 (tcp) or 8883 (TLS).
/// nullopt for another scheme, a path, an empty host or a port outside 1..65535.
/// Examples: "tcp://localhost:1883" -> {"localhost", 1883, false}; "mqtts://[::1]" -> {"::1", 8883,
/// true}; "broker" -> {"broker", 1883, false}; "ws://b:80" -> nullopt.
std::optional<BrokerAddress> broker_address(const std::string& uri);

/// The client id actually used (see MqttOptions::client_id).
std::string effective_client_id(const MqttOptions& o);

/// The node id actually used: `node_id` or the host name, reduced to [a-z0-9-].
std::string effective_node_id(const MqttOptions& o);

/// The password actually used: the first line of `password_file` if set, else `password`.
/// Throws std::runtime_error naming the file when it cannot be read (start-up only).
std::string effective_password(const MqttOptions& o);

}  // namespace loxcan::mqtt
