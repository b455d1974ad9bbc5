#include "mqtt/loxberry.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace loxcan::mqtt {

using nlohmann::json;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// LoxBerry stores most values as strings; accept both forms.
std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (v.is_number()) return v.dump();
  return {};
}

bool is_enabled(const json& obj, const char* key, bool dflt) {
  if (!obj.contains(key) || obj[key].is_null()) return dflt;
  const std::string v = lower(trim(text_of(obj[key])));
  return v == "1" || v == "true" || v == "yes" || v == "on" || v == "enabled" || v == "enable" ||
         v == "check" || v == "checked" || v == "select" || v == "selected";
}

std::string replace_chars(std::string_view s, std::string_view from, char to) {
  std::string out(s);
  for (auto& c : out) {
    if (from.find(c) != std::string_view::npos) c = to;
  }
  return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
}

// Hash::Flatten's _escape with escape '#' and both delimiters '_': '#'->'##', then '_'->'#_' twice.
std::string flatten_escape(std::string key) {
  replace_all(key, "#", "##");
  replace_all(key, "_", "#_");
  replace_all(key, "_", "#_");
  return key;
}

std::string leaf_text(const json& v) {
  if (v.is_null()) return {};
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

void flatten(const json& v, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (v.is_object() && !v.empty()) {
    for (const auto& [k, child] : v.items()) {
      flatten(child, prefix.empty() ? flatten_escape(k) : prefix + "_" + flatten_escape(k), out);
    }
  } else if (v.is_array() && !v.empty()) {
    for (std::size_t i = 0; i < v.size(); ++i) flatten(v[i], prefix + "_" + std::to_string(i), out);
  } else if (!prefix.empty()) {
    out[prefix] = leaf_text(v);
  }
}

std::vector<std::string> published_channels(const BridgeDevice& d) {
  std::vector<std::string> out;
  for (const auto& ch : d.channels) {
    if (ch.publish) out.push_back(topic_channel(ch));
  }
  return out;
}

}  // namespace

LoxBerryParse parse_general_json(std::string_view text, const std::string& lbsconfig) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return {std::nullopt, std::string("not valid JSON at byte ") + std::to_string(e.byte)};
  } catch (const json::exception& e) {  // e.g. a number too large for a double (found by fuzzing)
    return {std::nullopt, std::string("not valid JSON: ") + e.what()};
  }
  LoxBerryBroker b;
  if (!doc.is_object() || !doc.contains("Mqtt")) return {b, {}};
  const json& m = doc["Mqtt"];
  if (!m.is_object()) return {std::nullopt, "\"Mqtt\" is not an object"};
  if (m.contains("Brokerhost") && !trim(text_of(m["Brokerhost"])).empty())
    b.host = trim(text_of(m["Brokerhost"]));
  if (m.contains("Brokerport") && !trim(text_of(m["Brokerport"])).empty()) {
    const std::string p = trim(text_of(m["Brokerport"]));
    int port = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || end != p.data() + p.size() || port < 1 || port > 65535) {
      return {std::nullopt, "Mqtt.Brokerport \"" + p + "\" is not a port number (1..65535)"};
    }
    b.port = port;
  }
  if (m.contains("Brokeruser")) b.user = text_of(m["Brokeruser"]);
  if (m.contains("Brokerpass")) b.pass = text_of(m["Brokerpass"]);
  const bool local = is_enabled(m, "Uselocalbroker", true);
  if (!local && is_enabled(m, "TlsExternalEnabled", false)) {
    b.tls = true;
    b.tls_verify = is_enabled(m, "TlsExternalValidatecert", false);
    b.ca_file = (lbsconfig.empty() ? std::string("/opt/loxberry/config/system") : lbsconfig) +
                "/mqtt_external_ca.crt";
  }
  return {b, {}};
}

void apply_loxberry(const LoxBerryBroker& b, MqttOptions& o) {
  const bool v6 = b.host.find(':') != std::string::npos;
  const std::string host = v6 && b.host.front() != '[' ? "[" + b.host + "]" : b.host;
  o.broker = std::string(b.tls ? "ssl://" : "tcp://") + host + ":" + std::to_string(b.port);
  o.username = b.user;
  o.password = b.user.empty() ? std::string() : b.pass;
  o.password_file.clear();
  if (b.tls) {
    o.tls.ca_file = b.ca_file;
    o.tls.insecure = !b.tls_verify;
  }
}

std::string loxberry_general_json_path() {
  const char* dir = std::getenv("LBSCONFIG");
  return dir && *dir ? std::string(dir) + "/general.json" : std::string();
}

GeneralJsonWatcher::GeneralJsonWatcher(std::string path, std::string lbsconfig)
    : path_(std::move(path)), lbsconfig_(std::move(lbsconfig)) {
  if (lbsconfig_.empty()) {
    const auto slash = path_.rfind('/');
    lbsconfig_ = slash == std::string::npos ? "." : path_.substr(0, slash);
  }
}

GeneralJsonWatcher::Result GeneralJsonWatcher::check() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return {false, current_, path_ + ": cannot stat"};
  const Stamp now{static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec,
                  static_cast<long long>(st.st_size), static_cast<long long>(st.st_ino)};
  if (now == stamp_) return {false, current_, {}};
  std::ifstream in(path_);
  if (!in) return {false, current_, path_ + ": cannot open"};
  std::stringstream ss;
  ss << in.rdbuf();
  const auto parsed = parse_general_json(ss.str(), lbsconfig_);
  if (!parsed.broker)
    return {false, current_, path_ + ": " + parsed.error};  // retried on the next change
  stamp_ = now;
  const bool changed = !current_ || !(*current_ == *parsed.broker);
  current_ = parsed.broker;
  return {changed, current_, {}};
}

std::string vi_name_v1(std::string_view topic) {
  return replace_chars(topic, "/%", '_');
}

std::string vi_name_v2(std::string_view topic) {
  return replace_chars(topic, "/% ", '_');
}

std::string vi_name_v2_json(std::string_view topic, std::string_view path) {
  std::string p(path);
  replace_all(p, "@@", "_");
  std::string out;
  for (char c : p) {
    if (c != '[' && c != ']') out += c == ' ' ? '_' : c;
  }
  return vi_name_v2(topic) + "_" + out;
}

std::string loxberry_convert_boolean(std::string_view value) {
  const std::string v = lower(trim(value));
  static const char* const kTrue[] = {"true", "yes",   "on",      "enabled", "enable",
                                      "1",    "check", "checked", "select",  "selected"};
  static const char* const kFalse[] = {"false", "no", "off", "disabled", "disable", "0"};
  for (const char* t : kTrue) {
    if (v == t) return "1";
  }
  for (const char* f : kFalse) {
    if (v == f) return "0";
  }
  return std::string(value);
}

std::vector<ViValue> loxberry_v1_values(std::string_view topic, std::string_view payload) {
  const std::string base = vi_name_v1(topic);
  json doc = json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !(doc.is_object() || doc.is_array())) {
    return {{base, loxberry_convert_boolean(payload)}};
  }
  if (doc.is_array()) {  // the gateway turns a top-level array into {element: 1}
    json obj = json::object();
    for (const auto& e : doc) obj[e.is_string() ? e.get<std::string>() : e.dump()] = 1;
    doc = std::move(obj);
  }
  std::map<std::string, std::string> flat;
  flatten(doc, {}, flat);
  std::vector<ViValue> out;
  for (const auto& [key, value] : flat)
    out.push_back({base + "_" + key, loxberry_convert_boolean(value)});
  return out;
}

std::string loxberry_v1_subscriptions(const TopicScheme& topics,
                                      const std::vector<BridgeDevice>& devices) {
  std::string out = topics.bridge("state") + "\n" + topics.bridge("stats/+") + "\n";
  for (const auto& d : devices) out += topics.device(device_segment(d.info)) + "/+\n";
  return out;
}

std::vector<std::string> loxberry_v2_topics(const TopicScheme& topics,
                                            const std::vector<BridgeDevice>& devices,
                                            const std::vector<std::string>& metrics) {
  std::vector<std::string> out{topics.bridge("state")};
  for (const auto& m : metrics) out.push_back(topics.bridge("stats/" + m));
  for (const auto& d : devices) {
    const std::string dev = device_segment(d.info);
    out.push_back(topics.availability(dev));
    for (const auto& ch : published_channels(d)) out.push_back(topics.channel(dev, ch));
  }
  return out;
}

std::string loxberry_v2_subscriptions_json(const TopicScheme& topics,
                                           const std::vector<BridgeDevice>& devices,
                                           const std::vector<std::string>& metrics) {
  std::map<std::string, bool> rgbw_topics;
  for (const auto& d : devices) {
    for (const auto& ch : d.channels) {
      if (ch.publish && ch.spec.type == devices::ValueType::rgbw) {
        rgbw_topics[topics.channel(device_segment(d.info), topic_channel(ch))] = true;
      }
    }
  }
  auto entry = [](const std::string& id) {
    return json{
        {"Id", id}, {"Toms", json::array()}, {"Noncached", false}, {"resetaftersend", false}};
  };
  json subs = json::array();
  for (const auto& t : loxberry_v2_topics(topics, devices, metrics)) {
    json e = entry(t);
    e["Jsonexpand"] = rgbw_topics.count(t) > 0;
    e["Json"] = json::array();
    if (rgbw_topics.count(t)) {
      for (const char* f : {"state", "brightness", "color@@r", "color@@g", "color@@b", "color@@w"})
        e["Json"].push_back(entry(f));
    }
    subs.push_back(std::move(e));
  }
  return json{{"Subscriptions", subs}}.dump(2);
}

std::string loxberry_conversions() {
  return "online=1\noffline=0\n";
}

}  // namespace loxcan::mqtt
