// LoxBerry helpers: VI-name rules of gateway V1 and V2 (examples from CONVENTIONS.md 1.4),
// general.json parsing and change detection, subscription lines.
#include "mqtt/loxberry.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mqtt/payload.hpp"
#include "sample_devices.hpp"

namespace loxcan::mqtt {
namespace {

TEST(BrokerAddress, EveryAcceptedFormAndTheRejectedOnes) {
  auto is = [](const char* uri, const char* host, int port, bool tls) {
    const auto a = broker_address(uri);
    ASSERT_TRUE(a.has_value()) << uri;
    EXPECT_EQ(a->host, host) << uri;
    EXPECT_EQ(a->port, port) << uri;
    EXPECT_EQ(a->tls, tls) << uri;
  };
  is("tcp://localhost:1883", "localhost", 1883, false);
  is("mqtt://10.0.0.2:1884", "10.0.0.2", 1884, false);
  is("ssl://broker", "broker", 8883, true);
  is("mqtts://[::1]", "::1", 8883, true);
  is("[fe80::1]:1999", "fe80::1", 1999, false);
  is("::1", "::1", 1883, false);
  is("broker", "broker", 1883, false);
  for (const char* bad :
       {"ws://b:80", "wss://b", "http://b", "tcp://", "tcp://:1883", "tcp://b:", "tcp://b:x",
        "tcp://b:65536", "tcp://b:1883/path", "tcp://[::1", "tcp://[::1]x", "tcp://a b:1"}) {
    EXPECT_FALSE(broker_address(bad).has_value()) << bad;
  }
}

TEST(LoxBerryVi, PlainTopicsV1AndV2) {
  struct Row {
    const char* topic;
    const char* v1;
    const char* v2;
  } rows[] = {
      {"loxcan/relay-13001234/q1", "loxcan_relay-13001234_q1", "loxcan_relay-13001234_q1"},
      {"shellies/plug/relay/0", "shellies_plug_relay_0", "shellies_plug_relay_0"},
      {"a/b%c", "a_b_c", "a_b_c"},
      {"with space/x", "with space_x", "with_space_x"},  // V1 keeps the space (URI-escaped later)
      {"keep.dots-and_under#hash", "keep.dots-and_under#hash", "keep.dots-and_under#hash"},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(vi_name_v1(r.topic), r.v1) << r.topic;
    EXPECT_EQ(vi_name_v2(r.topic), r.v2) << r.topic;
  }
}

TEST(LoxBerryVi, V2JsonPaths) {
  EXPECT_EQ(vi_name_v2_json("loxcan/rgbw-1/rgbw", "color@@r"), "loxcan_rgbw-1_rgbw_color_r");
  EXPECT_EQ(vi_name_v2_json("t", "rollen@@[3]@@rolle"), "t_rollen_3_rolle");
  EXPECT_EQ(vi_name_v2_json("t", "battery_low"), "t_battery_low");  // no ## escaping in V2
  EXPECT_EQ(vi_name_v2_json("t", "a b"), "t_a_b");
}

TEST(LoxBerryVi, V1JsonExpansionExampleFromConventions) {
  const auto vis = loxberry_v1_values(
      "loxcan/rgbw-0a1b2c3d/rgbw1",
      R"({"state":"ON","brightness":80,"color":{"r":255,"g":0,"b":10,"w":40},"battery_low":false})");
  const std::vector<ViValue> expected = {
      {"loxcan_rgbw-0a1b2c3d_rgbw1_battery##_low", "0"},
      {"loxcan_rgbw-0a1b2c3d_rgbw1_brightness", "80"},
      {"loxcan_rgbw-0a1b2c3d_rgbw1_color_b", "10"},
      {"loxcan_rgbw-0a1b2c3d_rgbw1_color_g", "0"},
      {"loxcan_rgbw-0a1b2c3d_rgbw1_color_r", "255"},
      {"loxcan_rgbw-0a1b2c3d_rgbw1_color_w", "40"},
      {"loxcan_rgbw-0a1b2c3d_rgbw1_state", "1"},
  };
  EXPECT_EQ(vis, expected);
}

TEST(LoxBerryVi, V1PlainArraysAndBooleans) {
  EXPECT_EQ(loxberry_v1_values("loxcan/x/q1", "ON"), (std::vector<ViValue>{{"loxcan_x_q1", "1"}}));
  EXPECT_EQ(
      loxberry_v1_values("loxcan/x/availability", "online"),
      (std::vector<ViValue>{{"loxcan_x_availability", "online"}}));  // needs the conversion file
  EXPECT_EQ(loxberry_v1_values("loxcan/x/temp", "21.5"),
            (std::vector<ViValue>{{"loxcan_x_temp", "21.5"}}));
  EXPECT_EQ(loxberry_v1_values("t", R"(["on","off"])"),
            (std::vector<ViValue>{{"t_off", "1"}, {"t_on", "1"}}));
  EXPECT_EQ(loxberry_v1_values("t", R"({"a":[5,null],"k#1":true})"),
            (std::vector<ViValue>{{"t_a_0", "5"}, {"t_a_1", ""}, {"t_k##1", "1"}}));
  for (const char* t : {"true", "Yes", " on ", "enabled", "checked", "1"})
    EXPECT_EQ(loxberry_convert_boolean(t), "1") << t;
  for (const char* f : {"false", "NO", "off", "disabled", "0"})
    EXPECT_EQ(loxberry_convert_boolean(f), "0") << f;
  EXPECT_EQ(loxberry_convert_boolean("offline"), "offline");
}

TEST(LoxBerryVi, LoxcanTopicsGiveTheSameNameInV1AndV2) {
  // Principle 3 of CONVENTIONS 4.1: every topic loxcan publishes for a Miniserver maps alike.
  const TopicScheme t("loxcan");
  for (const auto& topic : loxberry_v2_topics(t, test::all_devices(), {"busload", "uptime"})) {
    EXPECT_EQ(vi_name_v1(topic), vi_name_v2(topic)) << topic;
    EXPECT_EQ(topic.find_first_of(" %_"), std::string::npos) << topic;
  }
}

TEST(LoxBerrySubscriptions, V1Lines) {
  const auto lines =
      loxberry_v1_subscriptions(TopicScheme("loxcan"), {test::extension(), test::touch()});
  EXPECT_EQ(lines,
            "loxcan/bridge/state\n"
            "loxcan/bridge/stats/+\n"
            "loxcan/extension-13001234/+\n"
            "loxcan/touch-kitchen/+\n");
  EXPECT_EQ(lines.find('#'), std::string::npos);
}

TEST(LoxBerrySubscriptions, V2TopicsAndJson) {
  const auto topics = loxberry_v2_topics(TopicScheme("loxcan"), {test::rgbw()}, {"busload"});
  EXPECT_EQ(topics, (std::vector<std::string>{"loxcan/bridge/state", "loxcan/bridge/stats/busload",
                                              "loxcan/rgbwdimmer-a1b2c3d4/availability",
                                              "loxcan/rgbwdimmer-a1b2c3d4/rgbw"}));
  const auto doc = nlohmann::json::parse(
      loxberry_v2_subscriptions_json(TopicScheme("loxcan"), {test::rgbw()}, {"busload"}));
  ASSERT_EQ(doc["Subscriptions"].size(), 4u);
  const auto& light = doc["Subscriptions"][3];
  EXPECT_EQ(light["Id"], "loxcan/rgbwdimmer-a1b2c3d4/rgbw");
  EXPECT_EQ(light["Jsonexpand"], true);
  EXPECT_EQ(light["Json"][2]["Id"], "color@@r");
  EXPECT_EQ(loxberry_conversions(), "online=1\noffline=0\n");
}

TEST(LoxBerryGeneralJson, StringValuesAndDefaults) {
  auto r = parse_general_json(
      R"({"Mqtt":{"Brokerhost":"localhost","Brokerport":"1883","Brokeruser":"loxberry",
      "Brokerpass":"s3cret","Uselocalbroker":"1","Tlsenabled":"true","Tlsport":"8883"}})",
      "/cfg");
  ASSERT_TRUE(r.broker) << r.error;
  EXPECT_EQ(r.broker->host, "localhost");
  EXPECT_EQ(r.broker->port, 1883);
  EXPECT_EQ(r.broker->user, "loxberry");
  EXPECT_EQ(r.broker->pass, "s3cret");
  EXPECT_FALSE(r.broker->tls);  // local broker: the plain port is always there

  r = parse_general_json(R"({"Miniserver":{}})", "/cfg");
  ASSERT_TRUE(r.broker);
  EXPECT_EQ(r.broker->host, "localhost");
  EXPECT_EQ(r.broker->port, 1883);
  EXPECT_EQ(r.broker->user, "");

  r = parse_general_json(
      R"({"Mqtt":{"Brokerhost":"mqtt.lan","Brokerport":8884,"Uselocalbroker":false,
      "TlsExternalEnabled":"1","TlsExternalValidatecert":"0"}})",
      "/cfg");
  ASSERT_TRUE(r.broker) << r.error;
  EXPECT_TRUE(r.broker->tls);
  EXPECT_FALSE(r.broker->tls_verify);
  EXPECT_EQ(r.broker->ca_file, "/cfg/mqtt_external_ca.crt");
  MqttOptions o;
  apply_loxberry(*r.broker, o);
  EXPECT_EQ(o.broker, "ssl://mqtt.lan:8884");
  EXPECT_TRUE(o.tls.insecure);
  EXPECT_EQ(validate(o), "");
}

TEST(LoxBerryGeneralJson, Errors) {
  EXPECT_NE(parse_general_json("{not json", "/cfg").error.find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(parse_general_json(R"({"Mqtt":{"Brokerport":"18x3"}})", "/cfg")
                .error.find("Mqtt.Brokerport \"18x3\""),
            std::string::npos);
  EXPECT_FALSE(parse_general_json(R"({"Mqtt":{"Brokerport":"70000"}})", "/cfg").broker);
  EXPECT_FALSE(parse_general_json(R"({"Mqtt":[]})", "/cfg").broker);
  EXPECT_FALSE(
      parse_general_json("40615E77770", "/cfg").broker);  // overflow: fuzz_mqtt_general_json crash
  EXPECT_FALSE(parse_general_json(R"({"Mqtt":{"Brokerport":1e999}})", "/cfg").broker);
}

TEST(LoxBerryGeneralJson, ApplyLoginOnlyWithUser) {
  MqttOptions o;
  apply_loxberry({"::1", 1884, "", "pw", false, false, ""}, o);
  EXPECT_EQ(o.broker, "tcp://[::1]:1884");
  EXPECT_EQ(o.username, "");
  EXPECT_EQ(o.password, "");
}

TEST(LoxBerryGeneralJson, WatcherSeesChanges) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("loxcan-lb-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "general.json").string();
  auto write = [&](const std::string& text) {
    std::ofstream(path + ".tmp") << text;
    std::filesystem::rename(path + ".tmp", path);  // new inode, like an editor's save
  };
  GeneralJsonWatcher w(path);
  EXPECT_FALSE(w.check().error.empty());  // missing file
  write(R"({"Mqtt":{"Brokerhost":"a","Brokerport":"1883"}})");
  auto r = w.check();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.broker->host, "a");
  EXPECT_FALSE(w.check().changed);  // unchanged file
  write(R"({"Mqtt":{"Brokerhost":"a","Brokerport":"1883"},"Other":1})");
  EXPECT_FALSE(w.check().changed);  // rewritten, same broker settings
  write(R"({"Mqtt":{"Brokerhost":"b","Brokerport":"1883"}})");
  r = w.check();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.broker->host, "b");
  write("{broken");
  r = w.check();
  EXPECT_FALSE(r.changed);
  EXPECT_NE(r.error.find("general.json"), std::string::npos);
  EXPECT_EQ(r.broker->host, "b");  // previous settings kept
  std::filesystem::remove_all(dir);
}

TEST(Options, ValidateAndDefaults) {
  MqttOptions o;
  EXPECT_EQ(validate(o), "");
  o.base_topic = "lox can";
  EXPECT_NE(validate(o).find("mqtt.base_topic"), std::string::npos);
  o = {};
  o.broker = "ftp://x";
  EXPECT_NE(validate(o).find("mqtt.broker"), std::string::npos);
  o = {};
  o.tls.ca_file = "/ca.pem";
  EXPECT_NE(validate(o).find("mqtt.tls"), std::string::npos);
  o.broker = "mqtts://broker:8883";
  EXPECT_EQ(validate(o), "");
  EXPECT_EQ(normalized_broker_uri("mqtts://broker:8883"), "ssl://broker:8883");
  EXPECT_EQ(normalized_broker_uri("broker"), "tcp://broker:1883");
  EXPECT_EQ(normalized_broker_uri("broker:1884"), "tcp://broker:1884");
  EXPECT_EQ(normalized_broker_uri("[::1]:1884"), "tcp://[::1]:1884");
  EXPECT_EQ(normalized_broker_uri("::1"), "tcp://[::1]:1883");
  o = {};
  o.broker = "ws://broker:9001";  // libmosquitto's client has no WebSockets
  EXPECT_NE(validate(o).find("unknown scheme"), std::string::npos);
  o.broker = "tcp://broker:0";
  EXPECT_NE(validate(o).find("port 1..65535"), std::string::npos);
  o = {};
  o.stats_interval_s = -1;
  EXPECT_NE(validate(o).find("stats_interval"), std::string::npos);
  o.stats_interval_s = 0;
  EXPECT_EQ(validate(o), "");
  o = {};
  o.client_id = "";
  o.base_topic = "home/lox";
  EXPECT_EQ(effective_client_id(o).rfind("loxcan-", 0), 0u);
  EXPECT_NE(effective_client_id(o).find("-home-lox"), std::string::npos);
}

TEST(Options, PasswordFile) {
  const auto path =
      std::filesystem::temp_directory_path() / ("loxcan-pw-" + std::to_string(::getpid()));
  std::ofstream(path) << "first-line\r\nsecond\n";
  MqttOptions o;
  o.password = "ignored";
  o.password_file = path.string();
  EXPECT_EQ(effective_password(o), "first-line");
  std::filesystem::remove(path);
  EXPECT_THROW(effective_password(o), std::runtime_error);
}

}  // namespace
}  // namespace loxcan::mqtt
