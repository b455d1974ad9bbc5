#pragma once
// loxcan.yaml: the one configuration file, parsed once into plain structs.
//
// File: default /etc/loxcan/loxcan.yaml (kDefaultPath), every section optional, every key has a
// default (etc/loxcan.yaml lists them all with comments). Sections: interfaces, devices, mqtt,
// emulation, discovery, logging, web. Values keep the position they came from (Mark) so that later
// layers (the daemon's cross-checks, SIGHUP reloads) can still name file:line:column.
//
// Errors: parse() never stops at the first problem; it collects every one it finds and throws
// ConfigError (holding all of them) at the end. Each error names the place, the key path and what
// was expected, exactly like:
//   loxcan.yaml:14:13: devices[3].serial: expected 8 hex digits, got '13G1'
//   loxcan.yaml:9:3: mqtt.brokr: unknown key (did you mean 'broker'?)
//   loxcan.yaml:21:5: devices[1].serial: duplicate serial 13112233 (first at line 12)
//   loxcan.yaml:4:1: mqtt: duplicate key (first at line 2)
//   loxcan.yaml:3:9: YAML syntax error: illegal map value
// Checked: YAML syntax; unknown keys (with a did-you-mean); duplicate YAML keys; value types and
// ranges; enumerations; serials (8 hex digits), device types (registry name or 0x id), friendly
// names (topic-safe, unique ignoring case), channel names (must exist in the model); cross
// references (emulated devices name a configured interface, Tree devices' parent is a Tree
// Extension in the map, interface names and roles unique); mqtt.password vs password_file.
//
// Example:
//   auto reg = loxcan::devices::Registry::builtin();
//   try { Config c = load_file("/etc/loxcan/loxcan.yaml", reg); }
//   catch (const ConfigError& e) { for (auto& d : e.errors()) std::cerr << d.to_string() << '\n'; }

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "devices/registry.hpp"

namespace loxcan::config {

inline constexpr const char* kDefaultPath = "/etc/loxcan/loxcan.yaml";

/// A position in the file, 1-based (0/0 = not from the file, i.e. a default).
struct Mark {
  int line = 0;
  int column = 0;
};

/// One problem found in the file.
struct Diagnostic {
  std::string file;
  Mark mark;
  std::string path;     ///< key path: "devices[3].serial"; empty for syntax/file errors
  std::string message;  ///< "expected 8 hex digits, got '13G1'"
  /// "file:line:column: path: message" (parts that are empty are left out).
  std::string to_string() const;
};

/// Thrown by parse()/load_file() with every diagnostic found; what() is all of them, one per line.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<Diagnostic> errors);
  const std::vector<Diagnostic>& errors() const { return errors_; }

 private:
  std::vector<Diagnostic> errors_;
};

enum class InterfaceRole : std::uint8_t { link, tree_left, tree_right };

struct InterfaceConfig {
  std::string name;  ///< Linux interface name, e.g. "can0" (1..15 characters)
  InterfaceRole role = InterfaceRole::link;
  bool configure = false;          ///< set bitrate / restart-ms and bring it up (libsocketcan)
  std::uint32_t bitrate = 125000;  ///< default 125000 link, 50000 tree
  std::uint32_t restart_ms = 100;
  std::uint32_t rcvbuf = 0;      ///< SO_RCVBUF bytes; 0 = kernel default
  std::uint32_t tx_queue = 256;  ///< frames queued for sending before new ones are refused
  Mark mark;
};

enum class DeviceMode : std::uint8_t { monitor, emulate };
enum class Branch : std::uint8_t { none, left, right };
enum class DeviceAuth : std::uint8_t { inherit, on, off, test };

struct ChannelConfig {
  std::string channel;              ///< the model's channel name (the YAML key)
  std::optional<std::string> name;  ///< friendly name, topic-safe
  std::optional<std::string> unit;
  bool invert = false;  ///< bool channels only
  double scale = 1;     ///< number channels only: published = raw * scale + offset
  double offset = 0;
  bool publish = true;
  std::uint32_t debounce_ms = 0;  ///< inputs only
  Mark mark;
};

struct DeviceConfig {
  std::uint32_t serial = 0;
  const devices::Model* model = nullptr;  ///< nullptr when `type` was not given (learned from bus)
  std::string name;                       ///< friendly; generated `<model>-<serial>` if absent
  bool name_given = false;
  DeviceMode mode = DeviceMode::monitor;
  std::string interface;                ///< emulate only: a name from `interfaces`
  std::optional<std::uint32_t> parent;  ///< Tree devices: serial of their Tree Extension
  Branch branch = Branch::none;
  DeviceAuth auth = DeviceAuth::inherit;
  std::optional<std::uint32_t> firmware;  ///< AABBCCDD decimal (10031108)
  std::vector<ChannelConfig> channels;
  Mark mark;
};

struct TlsConfig {
  std::string ca_file, cert_file, key_file;
  bool insecure = false;
};

enum class MqttProtocol : std::uint8_t { v311, v5 };
enum class Tristate : std::uint8_t { automatic, on, off };

/// Home Assistant discovery: one message per device (HA 2024.11+) or one per entity.
enum class HaDiscoveryMode : std::uint8_t { device, entity };

struct MqttConfig {
  bool enabled = true;
  std::string broker = "tcp://localhost:1883";
  std::string client_id;  ///< empty: "loxcan-<hostname>"
  std::string username, password, password_file;
  TlsConfig tls;
  MqttProtocol protocol = MqttProtocol::v311;
  std::string base_topic = "loxcan";
  std::string node_id;  ///< not a YAML key: set per instance; empty: the host name (HA bridge id)
  bool json_state = false;
  bool raw_rx = false, raw_tx = false, raw_unknown = true;
  bool homeassistant_enabled = true;
  std::string homeassistant_prefix = "homeassistant";
  HaDiscoveryMode homeassistant_mode = HaDiscoveryMode::device;
  double rate_limit = 10;               ///< commands per second and device; 0 = unlimited
  std::uint32_t offline_buffer = 1000;  ///< messages kept while disconnected
  std::uint32_t stats_interval_s = 60;  ///< 0 = no statistics
  Tristate loxberry = Tristate::automatic;
  /// LoxBerry MQTT Gateway status topic filter; "" = do not listen.
  std::string loxberry_gateway_status = "+/mqttgateway/status";
  /// Where the daemon keeps mqtt_subscriptions.cfg / mqtt_conversions.cfg current (the LoxBerry
  /// plugin's config folder); "" = $LOXCAN_LOXBERRY_CONFIG_DIR, unset = not written.
  std::string loxberry_config_dir;
};

enum class EmulationAuth : std::uint8_t { on, off, test };

struct EmulationConfig {
  EmulationAuth auth = EmulationAuth::on;
  std::string keys_file = "/etc/loxcan/keys.yaml";
  std::string state_file = "/var/lib/loxcan/state.yaml";
  /// 20.0.0.0: newer than any Miniserver firmware bundle, so no firmware update is pushed.
  std::uint32_t firmware = 20000000;
};

struct DiscoveryConfig {
  bool enabled = true;
  bool at_start = true;
  std::uint32_t interval_min = 60;  ///< 0 = only at start
  std::uint32_t timeout_s = 3;
  std::string cloud_dns_base_url = "https://dns.loxonecloud.com";
};

/// `web:` the browser view served by loxcan-gateway (gateway/web/). A listen address outside
/// 127.0.0.0/8 and ::1 needs password_file (checked here, at the listen key's position).
struct WebConfig {
  bool enabled = true;
  std::string listen = "127.0.0.1:8088";  ///< host:port or [v6]:port
  Mark listen_mark;
  std::string password_file;  ///< one line: the password for controls (empty: controls refused)
  std::uint32_t history_min = 60;  ///< per numeric channel, kept in memory
};

struct LoggingConfig {
  std::string level = "info";                 ///< trace, debug, info, warn, error, critical, off
  std::map<std::string, std::string> levels;  ///< per logger (can, proto, dev, mqtt, disc)
};

struct Config {
  std::string file;
  std::string instance;  ///< `--instance NAME` (loxcan-gateway@NAME.service); empty: the only one
  std::vector<InterfaceConfig> interfaces;
  std::vector<DeviceConfig> devices;
  MqttConfig mqtt;
  EmulationConfig emulation;
  DiscoveryConfig discovery;
  LoggingConfig logging;
  WebConfig web;

  /// The device entry with this serial, or nullptr.
  const DeviceConfig* find_device(std::uint32_t serial) const;
};

/// Several buses on one host run one loxcan-gateway@<instance>.service each. An instance changes
/// only built-in defaults, so that instances sharing a broker never collide; keys in the YAML
/// file still win:
///   mqtt.base_topic        loxcan/<instance>   (hence client id loxcan-<host>-loxcan-<instance>)
///   HA bridge id           loxcan_bridge_<host>-<instance>
///   emulation.state_file   /var/lib/loxcan/<instance>/state.yaml
/// valid_instance_name(): 1..32 of [A-Za-z0-9_-] (a topic level and a file name).
bool valid_instance_name(std::string_view instance);
Config instance_defaults(std::string_view instance);

/// Parses YAML text; `file` is only used in diagnostics. Throws ConfigError. The Config points
/// into `registry` (DeviceConfig::model), so the registry must outlive it: a temporary registry
/// is refused at compile time. A non-empty `instance` (see valid_instance_name) starts from
/// instance_defaults() instead of Config{}.
Config parse(std::string_view yaml, std::string_view file, const devices::Registry& registry,
             std::string_view instance = {});
Config parse(std::string_view yaml, std::string_view file,
             const devices::Registry&& registry) = delete;

/// Reads and parses a file. A file that cannot be read throws ConfigError with one diagnostic
/// "<file>: cannot read: <strerror>" (no line, no key path).
Config load_file(const std::string& path, const devices::Registry& registry,
                 std::string_view instance = {});
Config load_file(const std::string& path,
                 const devices::Registry&& registry) = delete;  // see parse()

/// `--check-config`: validates `path`; prints "<file>: OK (N interfaces, M devices)" to `out`
/// and returns 0, or prints every diagnostic to `err` (one per line) and returns EX_CONFIG (78).
int check_config(const std::string& path, const devices::Registry& registry, std::FILE* out,
                 std::FILE* err, std::string_view instance = {});

/// "10.3.11.8" or "10031108" -> 10031108; nullopt when neither form.
std::optional<std::uint32_t> parse_version(std::string_view text);

std::string_view to_string(InterfaceRole r);
std::string_view to_string(DeviceMode m);
std::string_view to_string(Branch b);

}  // namespace loxcan::config
