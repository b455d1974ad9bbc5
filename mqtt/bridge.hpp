#pragma once
// MqttBridge: devices::Event in, MQTT out; `/set` commands in, typed commands out.
//
// Single-threaded: every member is called on the owner's thread (the daemon's loop), including
// the client's handlers (MosquittoClient calls them there). Time comes from a clock the owner
// passes (tests use a fake one).
//
// What it publishes (base topic `<b>`, device segment `<d>`, channel segment `<c>`; see README
// "MQTT"):
//   <b>/bridge/state        online / offline (LWT, retained, QoS 1)
//   <b>/bridge/info         JSON (retained)            <b>/bridge/devices   JSON array (retained)
//   <b>/bridge/event        JSON {"type","data"}       <b>/bridge/stats/<m> plain numbers
//   (retained) <b>/bridge/stats        JSON of all metrics        <b>/bridge/raw/{rx,tx,unknown}
//   candump lines <b>/bridge/response/<r> answers to <b>/bridge/request/<r> (republish, raw)
//   <b>/<d>                 JSON of all channels (json_state)
//   <b>/<d>/<c>             plain value (retained unless Semantic::button)
//   <b>/<d>/availability    online / offline (retained)
//   <prefix>/…/config       Home Assistant discovery (retained, QoS 1; mqtt/ha_discovery.hpp)
//
// Home Assistant: discovery in device mode (one message per device) or entity mode. On every
// connect the bridge looks for configs of the *other* mode that an earlier loxcan left for its
// devices (subscription `ha_discovery.hpp: other_mode_filter`), and moves HA over in the order
// HA's docs give: 1. `{"migrate_discovery":true}` to each old topic, 2. the new configs,
// 3. an empty retained message to each old topic. The new configs are held back until the broker
// has delivered all retained old ones (a marker message on `<b>/bridge/discovery-sync` comes back
// after them), or 10 s at most. When HA announces itself (`<prefix>/status` = online) the bridge
// waits a random 1..5 s (HA's advice, so that many gateways do not answer at once), then publishes
// every discovery config and after them the states.
// `<b>/<d>/identify/set` (any payload, e.g. HA's button "PRESS") calls the IdentifyHandler for
// devices with BridgeDevice::identify.
//
// Listens to Home Assistant's birth message (`<prefix>/status` = online) and to LoxBerry's MQTT
// Gateway status (`options.loxberry_gateway_status`, default `+/mqttgateway/status`; V1 and V2
// publish `Connected` after subscribing, `Disconnected` as retained last will): when either comes
// (back) online, every retained state is published again. LoxBerry's V2 gateway forwards only live
// messages, and a retained publish reaches existing subscribers as a live one (retain flag clear).
//
// Every retained message it published is cached and republished after each (re)connect, so a
// broker without persistence ends with the same retained state. A retained value equal to the
// cached one is not sent again. Non-retained messages published
// while disconnected go to a bounded FIFO (oldest dropped first, drops counted).
//
// Commands: `<b>/<d>/<c>/set` (QoS 1 subscription). The payload is checked against the channel's
// spec (mqtt/payload.hpp); retained commands are ignored; a rejected command produces one warning
// log line and a `bridge/event` {"type":"command_rejected","data":{"topic","payload","error",
// "detail"}}. Accepted commands pass a per-device token bucket, then go to the CommandHandler.
// Commands over the limit are deferred (the newest value per channel wins) and delivered by tick().
// The bridge does not publish the new state itself: the device confirms it with a ChannelChanged.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "devices/events.hpp"
#include "mqtt/client.hpp"
#include "mqtt/ha_discovery.hpp"
#include "mqtt/model.hpp"
#include "mqtt/options.hpp"
#include "mqtt/payload.hpp"
#include "mqtt/topics.hpp"

namespace loxcan::mqtt {

/// A command for the bus, produced from a valid `/set` message.
struct BridgeCommand {
  devices::DeviceInfo device;
  std::string channel;  ///< the channel's spec name (as the device model knows it)
  devices::ChannelValue value;
};

/// Static facts for `<b>/bridge/info` (published retained on set_info and on every connect).
struct BridgeInfo {
  std::string version = "0";
  std::string commit;
  std::string interface = "can0";  ///< also the interface name in raw candump lines
  std::string bitrate;
  std::string miniserver;
};

enum class RawDirection : std::uint8_t { rx, tx, unknown };

struct BridgeCounters {
  std::uint64_t published = 0;       ///< messages handed to the client
  std::uint64_t publish_errors = 0;  ///< refused by the client while connected
  std::uint64_t received = 0;        ///< messages received on subscribed topics
  std::uint64_t buffered = 0;        ///< non-retained messages stored while offline
  std::uint64_t dropped = 0;         ///< dropped from the full offline buffer
  std::uint64_t connects = 0;        ///< successful (re)connects
  std::uint64_t commands = 0;        ///< commands delivered to the handler
  std::uint64_t commands_rejected = 0;
  std::uint64_t commands_deferred = 0;   ///< held back by the rate limit
  std::uint64_t commands_coalesced = 0;  ///< deferred commands replaced by a newer one
};

class MqttBridge {
 public:
  using CommandHandler = std::function<void(const BridgeCommand&)>;
  using Clock = std::function<std::int64_t()>;  ///< ns since the Unix epoch
  using MetricsProvider = std::function<std::vector<Metric>()>;
  using IdentifyHandler = std::function<void(const devices::DeviceInfo&)>;

  /// `client` must outlive the bridge. Throws std::invalid_argument when validate(options) fails.
  MqttBridge(MqttOptions options, MqttClient& client, CommandHandler on_command, Clock clock = {});

  /// The last will to give the client: `<b>/bridge/state` = offline, retained, QoS 1.
  static Publication will(const MqttOptions& options);

  /// Installs the client handlers and starts the client.
  void start();
  /// Publishes `offline` (a clean exit sends no will) and stops the client.
  void stop();

  void set_info(BridgeInfo info);
  /// The device map: publishes discovery/availability for new or changed devices, clears the
  /// retained topics and discovery of devices no longer listed (renames included).
  void set_devices(std::vector<BridgeDevice> devices);
  /// Bus metrics for the stats (frames, errors, bus load…); called by tick() every stats interval.
  void set_metrics_provider(MetricsProvider p) { metrics_ = std::move(p); }
  /// Called for `<b>/<dev>/identify/set` on a device with BridgeDevice::identify.
  void set_identify_handler(IdentifyHandler h) { on_identify_ = std::move(h); }

  void handle(const devices::Event& e);
  /// One raw frame (`frame` in candump compact form, e.g. "10A#0011"); ignored unless enabled.
  void publish_raw(RawDirection dir, std::int64_t ts_ns, std::string_view frame);
  bool raw_enabled(RawDirection dir) const;
  void set_raw_enabled(RawDirection dir, bool on);

  /// Call about once a second: delivers deferred commands, publishes stats when due
  /// (every stats_interval_s, at least 10 s apart; never when it is 0).
  void tick();
  /// Publishes every cached retained message again (HA birth, bridge/request/republish).
  void republish_all();
  void publish_stats();
  /// Publishes `<b>/bridge/<name>` retained (e.g. `miniservers`, a JSON list from discovery).
  void publish_bridge_topic(const std::string& name, std::string payload);

  /// The `/set` path for other front ends (the web view): the same parsing, range checks, rate
  /// limit, warning and `command_rejected` event as a message on `<b>/<device>/<channel>/set`
  /// (the event names that topic). Returns the rejection, or ok() when the command was accepted
  /// (delivered now or deferred by the rate limit).
  CommandResult command(const std::string& device_segment, const std::string& channel_segment,
                        std::string_view payload);
  /// The topic segment of a device the bridge knows ("" when unknown): command()'s first argument.
  std::string segment_of(std::uint32_t serial) const {
    auto it = devices_.find(serial);
    return it == devices_.end() ? std::string() : it->second.segment;
  }
  /// Called for every rejected command (MQTT or command()), after the event was published.
  using RejectionObserver = std::function<void(const std::string& topic, const std::string& payload,
                                               PayloadError error, const std::string& detail)>;
  void set_rejection_observer(RejectionObserver o) { on_rejected_ = std::move(o); }

  const BridgeCounters& counters() const { return counters_; }
  bool connected() const { return connected_; }
  /// The retained state as published: topic -> payload (tests compare it with the broker's).
  const std::map<std::string, std::string>& retained() const { return retained_; }
  /// Metric names published under bridge/stats (for LoxBerry V2 lists and discovery).
  std::vector<std::string> metric_names() const;
  /// The names published under bridge/stats for a metrics provider that reports `provider_names`
  /// (in that order), followed by the bridge's own, without duplicates; for tools that have no
  /// running bridge (loxberry-subscriptions) and for metric_names().
  static std::vector<std::string> metric_names_for(const std::vector<std::string>& provider_names);
  const TopicScheme& topics() const { return topics_; }

 private:
  struct ChannelState {
    std::optional<devices::ChannelValue> value;
  };
  struct DeviceEntry {
    BridgeDevice device;
    std::string segment;
    bool from_map = false;  ///< listed by set_devices (else learned from events)
    std::map<std::string, devices::ChannelValue> values;  ///< by channel segment
    std::vector<std::string> discovery_topics;
    std::vector<std::pair<std::string, std::string>> components;  ///< device mode: id -> platform
  };
  struct Bucket {
    double tokens = 0;
    std::int64_t last_ns = 0;
    std::map<std::string, devices::ChannelValue> pending;  ///< by spec channel name
  };

  // publishing
  void publish(Publication p);
  void publish_retained(const std::string& topic, std::string payload, int qos = 0);
  void clear_retained(const std::string& topic);
  void send(const Publication& p);
  void flush_offline();
  void publish_event(const std::string& type, nlohmann::json data);
  void publish_bridge_devices();
  void publish_info();

  // client handlers
  void on_connected();
  void on_lost(const std::string& cause);
  void on_message(IncomingMessage m);
  void on_set(const TopicScheme::Parsed& p, const IncomingMessage& m);
  void on_request(const std::string& name, const IncomingMessage& m);
  bool on_peer_status(const IncomingMessage& m);
  CommandResult reject(const IncomingMessage& m, PayloadError e, const std::string& detail);
  CommandResult check_and_submit(const std::string& device, const std::string& channel,
                                 const IncomingMessage& m);

  // devices
  DeviceEntry& entry_for(const devices::DeviceInfo& info);
  void publish_device(DeviceEntry& e);
  void remove_device(DeviceEntry& e);
  void publish_value(DeviceEntry& e, const std::string& channel, const devices::ChannelValue& v);
  void set_available(DeviceEntry& e, bool available);
  const BridgeChannel* find_channel(const DeviceEntry& e, const std::string& segment) const;
  void publish_discovery(DeviceEntry& e);
  void clear_device_topics(const std::string& segment, const std::vector<std::string>& discovery);
  void on_identify(DeviceEntry& e, const IncomingMessage& m);

  // Home Assistant: mode migration and birth
  bool ha_device_mode() const;
  bool is_discovery_topic(const std::string& topic) const;
  void watch_other_mode(const std::string& node_id);
  void start_migration_scan();
  void finish_migration_scan();
  void on_other_mode_config(const IncomingMessage& m);
  void send_discovery_of(const std::string& node_id);
  void republish_for_ha();

  // commands
  void submit(DeviceEntry& e, const BridgeChannel& ch, devices::ChannelValue v);
  void refill(Bucket& b, std::int64_t now);
  void deliver_deferred();

  MqttOptions options_;
  TopicScheme topics_;
  DiscoveryContext discovery_;
  MqttClient& client_;
  CommandHandler on_command_;
  Clock clock_;
  MetricsProvider metrics_;
  RejectionObserver on_rejected_;
  BridgeInfo info_;
  RawOptions raw_;

  bool connected_ = false;
  std::int64_t started_ns_ = 0;
  std::int64_t last_stats_ns_ = 0;
  std::map<std::uint32_t, DeviceEntry> devices_;     ///< by serial
  std::map<std::string, std::uint32_t> by_segment_;  ///< topic segment -> serial
  std::map<std::string, std::string> retained_;      ///< topic -> payload
  std::map<std::string, int> retained_qos_;
  std::set<std::string> pending_clears_;  ///< empty retained to send on reconnect
  std::deque<Publication> offline_;
  std::map<std::uint32_t, Bucket> buckets_;
  std::vector<std::string> bridge_discovery_;
  IdentifyHandler on_identify_;
  std::set<std::string> watched_nodes_;  ///< HA node ids whose other-mode topics are subscribed
  bool scanning_ = false;                ///< new configs held until the sync marker returns
  std::string scan_token_;
  std::int64_t scan_started_ns_ = 0;
  std::set<std::string> leftovers_;  ///< old-mode topics migrated, to clear after the new configs
  std::int64_t ha_republish_at_ns_ = 0;  ///< 0 = none pending
  std::uint64_t random_state_ = 0;
  BridgeCounters counters_;
};

}  // namespace loxcan::mqtt
