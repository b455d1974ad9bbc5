#pragma once
// LoxBerry integration (CONVENTIONS.md 1 and 4.7):
//  - broker settings from `$LBSCONFIG/general.json` → "Mqtt" (values are often strings: "1883",
//    "1", "true"), with the same TLS rules as LoxBerry's mqtt_connectiondetails();
//  - a change check the daemon calls periodically (LoxBerry's own gateway polls every 5 s);
//  - MQTT Gateway subscription lines (V1 `mqtt_subscriptions.cfg`) and the V2 topic list;
//  - the Virtual Input name rules of gateway V1 and V2, so users and tests know what the
//    Miniserver will see.
//
// Example general.json fragment and result:
//   {"Mqtt":{"Brokerhost":"localhost","Brokerport":"1883","Brokeruser":"loxberry","Brokerpass":"x"}}
//   -> LoxBerryBroker{host "localhost", port 1883, user "loxberry", pass "x", tls false}
//   -> apply_loxberry(): broker "tcp://localhost:1883", username "loxberry", password "x".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mqtt/model.hpp"
#include "mqtt/options.hpp"
#include "mqtt/topics.hpp"

namespace loxcan::mqtt {

struct LoxBerryBroker {
  std::string host = "localhost";
  int port = 1883;  ///< plain MQTT port (Brokerport)
  std::string user;
  std::string pass;
  bool tls = false;         ///< connect with TLS (external broker with TlsExternalEnabled)
  bool tls_verify = false;  ///< verify the server certificate
  std::string ca_file;      ///< CA for TLS
  friend bool operator==(const LoxBerryBroker&, const LoxBerryBroker&) = default;
};

struct LoxBerryParse {
  std::optional<LoxBerryBroker> broker;  ///< set on success
  std::string error;                     ///< set on failure, names the key and the value
};

/// Parses the text of general.json. `lbsconfig` is the directory for the external CA
/// (`<lbsconfig>/mqtt_external_ca.crt`). Rules:
///  - missing "Mqtt" object or missing keys -> LoxBerry's defaults (localhost, 1883, no login);
///  - Brokerport must be 1..65535 (number or numeric string), else error;
///  - booleans: true/1/"1"/"true"/"yes"/"on"/"enabled" (any case) are true, everything else false;
///  - with the local broker (Uselocalbroker true or missing) loxcan always uses the plain port,
///    which LoxBerry keeps open even when its TLS listener is on;
///  - an external broker with TlsExternalEnabled -> TLS on Brokerport, verification only with
///    TlsExternalValidatecert, CA `<lbsconfig>/mqtt_external_ca.crt`.
LoxBerryParse parse_general_json(std::string_view text, const std::string& lbsconfig);

/// Writes the broker, login and TLS settings into `o` (the rest stays as configured). Login only
/// when a user is set (as LoxBerry's V2 gateway).
void apply_loxberry(const LoxBerryBroker& b, MqttOptions& o);

/// `$LBSCONFIG/general.json` when LBSCONFIG is set, else "" (not a LoxBerry).
std::string loxberry_general_json_path();

/// Watches general.json: check() re-reads the file when its size, mtime or inode changed and
/// reports whether the *broker settings* differ from the last successful read.
class GeneralJsonWatcher {
 public:
  explicit GeneralJsonWatcher(std::string path, std::string lbsconfig = {});

  struct Result {
    bool changed = false;                  ///< broker settings differ from the previous ones
    std::optional<LoxBerryBroker> broker;  ///< current settings (after the first good read)
    std::string error;                     ///< file unreadable / invalid: "<path>: <reason>"
  };
  /// First call: reads the file, `changed` = true on success. Later calls: cheap stat(); the file
  /// is parsed again only when it changed on disk. On error the previous settings are kept.
  Result check();

 private:
  std::string path_;
  std::string lbsconfig_;
  struct Stamp {
    long long mtime_ns = -1, size = -1, inode = -1;
    friend bool operator==(const Stamp&, const Stamp&) = default;
  } stamp_;
  std::optional<LoxBerryBroker> current_;
};

// ---- Virtual Input names -------------------------------------------------------------------

/// Gateway V1, plain payload: '/' and '%' become '_' (spaces stay and are URI-escaped later).
std::string vi_name_v1(std::string_view topic);
/// Gateway V2, plain payload: '/', '%' and ' ' become '_'.
std::string vi_name_v2(std::string_view topic);
/// Gateway V2, a ticked JSON field: path with "@@" between levels and "[n]" for array indices
/// ("color@@r" -> "<vi>_color_r", "a@@[3]@@b" -> "<vi>_a_3_b").
std::string vi_name_v2_json(std::string_view topic, std::string_view path);

/// What gateway V1 (expand_json and convert_booleans on, its defaults) sends to the Miniserver for
/// one message: a plain payload gives one (VI, value); a JSON object/array is flattened like
/// Hash::Flatten with '_' delimiters and '#' escaping (key "battery_low" -> "battery##_low").
struct ViValue {
  std::string name;
  std::string value;
  friend bool operator==(const ViValue&, const ViValue&) = default;
};
std::vector<ViValue> loxberry_v1_values(std::string_view topic, std::string_view payload);

/// The gateways' boolean conversion of one value (true/yes/on/... -> "1", false/no/off/... -> "0").
std::string loxberry_convert_boolean(std::string_view value);

// ---- subscriptions -------------------------------------------------------------------------

/// Lines for V1 `mqtt_subscriptions.cfg` (one per line, '\n' terminated):
///   <base>/bridge/state, <base>/bridge/stats/+, and `<base>/<dev>/+` per device (values and
///   availability; never `<base>/#`, which would forward commands and raw frames).
std::string loxberry_v1_subscriptions(const TopicScheme& topics,
                                      const std::vector<BridgeDevice>& devices);

/// V2 exact topics to tick (V2 does not accept wildcards): bridge state, each stats metric, and
/// per device its availability and every published channel.
std::vector<std::string> loxberry_v2_topics(const TopicScheme& topics,
                                            const std::vector<BridgeDevice>& devices,
                                            const std::vector<std::string>& metrics);

/// The same as a V2 `subscriptions.json` document ({"Subscriptions":[{"Id":…}]}); RGBW topics get
/// their JSON fields (state, brightness, color@@r/g/b/w) ticked.
std::string loxberry_v2_subscriptions_json(const TopicScheme& topics,
                                           const std::vector<BridgeDevice>& devices,
                                           const std::vector<std::string>& metrics);

/// `mqtt_conversions.cfg` content making availability numeric: "online=1\noffline=0\n".
std::string loxberry_conversions();

}  // namespace loxcan::mqtt
