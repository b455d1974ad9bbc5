// loxcan.yaml loader: the broken-file corpus (tests/data/config/bad/*.yaml, each with the exact
// expected diagnostics in a sibling .err file), the shipped etc/loxcan.yaml, and a file that sets
// every key. LOXCAN_UPDATE_GOLDEN=1 rewrites the .err files from the current output (review the
// diff before committing).
#include "gateway/config/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gateway/config/yaml_reader.hpp"

namespace fs = std::filesystem;
using namespace loxcan::config;

namespace {

const loxcan::devices::Registry& registry() {
  static const auto r = loxcan::devices::Registry::builtin();
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> bad_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(TEST_DATA_DIR) / "config/bad")) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// All diagnostics of parsing `text` as `name`, one per line; "" when it parsed.
std::string diagnostics(const std::string& text, const std::string& name) {
  try {
    parse(text, name, registry());
  } catch (const ConfigError& e) {
    std::string out;
    for (const auto& d : e.errors()) out += d.to_string() + "\n";
    return out;
  }
  return "";
}

}  // namespace

TEST(ConfigBadCorpus, EveryFileGivesExactlyTheExpectedErrors) {
  const bool update = std::getenv("LOXCAN_UPDATE_GOLDEN") != nullptr;
  const auto files = bad_files();
  ASSERT_GE(files.size(), 30u) << "the corpus must keep at least 30 broken files";
  for (const auto& yaml : files) {
    SCOPED_TRACE(yaml.filename().string());
    const std::string got = diagnostics(slurp(yaml), yaml.filename().string());
    EXPECT_FALSE(got.empty()) << "parsed without error";
    fs::path err = yaml;
    err.replace_extension(".err");
    if (update) std::ofstream(err, std::ios::binary) << got;
    ASSERT_TRUE(fs::exists(err)) << "missing " << err;
    EXPECT_EQ(got, slurp(err));
  }
}

TEST(ConfigBadCorpus, EveryExpectedFileHasItsYaml) {
  for (const auto& e : fs::directory_iterator(fs::path(TEST_DATA_DIR) / "config/bad")) {
    if (e.path().extension() != ".err") continue;
    fs::path yaml = e.path();
    EXPECT_TRUE(fs::exists(yaml.replace_extension(".yaml"))) << e.path();
  }
}

TEST(ConfigShipped, EtcLoxcanYamlIsValidAndAllDefaults) {
  Config c = load_file(std::string(LOXCAN_ETC_DIR) + "/loxcan.yaml", registry());
  Config d = parse("", "empty", registry());
  ASSERT_EQ(c.interfaces.size(), 1u);
  EXPECT_EQ(c.interfaces[0].name, "can0");
  EXPECT_EQ(c.interfaces[0].bitrate, 125000u);
  EXPECT_EQ(c.interfaces[0].restart_ms, 100u);
  EXPECT_TRUE(c.devices.empty());
  EXPECT_EQ(c.mqtt.broker, d.mqtt.broker);
  EXPECT_EQ(c.mqtt.base_topic, d.mqtt.base_topic);
  EXPECT_EQ(c.mqtt.rate_limit, d.mqtt.rate_limit);
  EXPECT_EQ(c.mqtt.offline_buffer, d.mqtt.offline_buffer);
  EXPECT_EQ(c.mqtt.stats_interval_s, d.mqtt.stats_interval_s);
  EXPECT_EQ(c.mqtt.raw_unknown, d.mqtt.raw_unknown);
  EXPECT_EQ(c.mqtt.homeassistant_prefix, d.mqtt.homeassistant_prefix);
  EXPECT_EQ(c.mqtt.loxberry, d.mqtt.loxberry);
  EXPECT_EQ(c.mqtt.loxberry_gateway_status, d.mqtt.loxberry_gateway_status);
  EXPECT_EQ(c.mqtt.loxberry_config_dir, d.mqtt.loxberry_config_dir);
  EXPECT_EQ(c.emulation.firmware, d.emulation.firmware);
  EXPECT_EQ(c.emulation.state_file, d.emulation.state_file);
  EXPECT_EQ(c.emulation.keys_file, d.emulation.keys_file);
  EXPECT_EQ(c.discovery.interval_min, d.discovery.interval_min);
  EXPECT_EQ(c.discovery.cloud_dns_base_url, d.discovery.cloud_dns_base_url);
  EXPECT_EQ(c.logging.level, d.logging.level);
  EXPECT_EQ(c.web.enabled, d.web.enabled);
  EXPECT_EQ(c.web.listen, d.web.listen);
  EXPECT_EQ(c.web.password_file, d.web.password_file);
  EXPECT_EQ(c.web.history_min, d.web.history_min);
}

TEST(ConfigShipped, ListsEveryKeyTheLoaderAccepts) {
  // Every key of full.yaml (which sets them all) appears in the shipped, commented file.
  const std::string shipped = slurp(std::string(LOXCAN_ETC_DIR) + "/loxcan.yaml");
  for (const char* key : {"name:",
                          "role:",
                          "configure:",
                          "bitrate:",
                          "restart_ms:",
                          "rcvbuf:",
                          "tx_queue:",
                          "serial:",
                          "type:",
                          "mode:",
                          "interface:",
                          "parent:",
                          "branch:",
                          "auth:",
                          "firmware:",
                          "channels:",
                          "unit:",
                          "invert:",
                          "scale:",
                          "offset:",
                          "publish:",
                          "debounce_ms:",
                          "enabled:",
                          "broker:",
                          "client_id:",
                          "username:",
                          "password:",
                          "password_file:",
                          "tls:",
                          "ca_file:",
                          "cert_file:",
                          "key_file:",
                          "insecure:",
                          "protocol:",
                          "base_topic:",
                          "json_state:",
                          "raw:",
                          "rx:",
                          "tx:",
                          "unknown:",
                          "homeassistant:",
                          "prefix:",
                          "rate_limit:",
                          "offline_buffer:",
                          "stats_interval_s:",
                          "loxberry:",
                          "loxberry_gateway_status:",
                          "loxberry_config_dir:",
                          "keys_file:",
                          "state_file:",
                          "at_start:",
                          "interval_min:",
                          "timeout_s:",
                          "cloud_dns_base_url:",
                          "level:",
                          "levels:",
                          "listen:",
                          "history_min:"}) {
    EXPECT_NE(shipped.find(key), std::string::npos) << key;
  }
}

TEST(ConfigGood, FullFileSetsEveryValue) {
  Config c = load_file(std::string(TEST_DATA_DIR) + "/config/good/full.yaml", registry());
  ASSERT_EQ(c.interfaces.size(), 3u);
  EXPECT_TRUE(c.interfaces[0].configure);
  EXPECT_EQ(c.interfaces[0].restart_ms, 200u);
  EXPECT_EQ(c.interfaces[0].rcvbuf, 1048576u);
  EXPECT_EQ(c.interfaces[0].tx_queue, 512u);
  EXPECT_EQ(c.interfaces[1].role, InterfaceRole::tree_left);
  EXPECT_EQ(c.interfaces[1].bitrate, 50000u);  // tree default
  EXPECT_EQ(c.interfaces[2].bitrate, 100000u);
  EXPECT_EQ(c.interfaces[2].mark.line, 11);
  EXPECT_EQ(c.interfaces[2].mark.column, 5);

  EXPECT_EQ(c.web.listen, "0.0.0.0:8080");
  EXPECT_EQ(c.web.password_file, "/etc/loxcan/web-password");
  EXPECT_EQ(c.web.history_min, 30u);
  ASSERT_EQ(c.devices.size(), 7u);
  const DeviceConfig& touch = c.devices[1];
  EXPECT_EQ(touch.serial, 0xC0168612u);
  ASSERT_NE(touch.model, nullptr);
  EXPECT_EQ(touch.model->name, "touch");
  EXPECT_EQ(touch.name, "touch-kitchen");
  EXPECT_EQ(touch.parent, 0x13112233u);
  EXPECT_EQ(touch.branch, Branch::left);
  ASSERT_EQ(touch.channels.size(), 3u);
  EXPECT_EQ(touch.channels[0].channel, "temperature");
  EXPECT_EQ(touch.channels[0].name, "kitchen-temperature");
  EXPECT_EQ(touch.channels[0].unit, "°F");
  EXPECT_DOUBLE_EQ(touch.channels[0].scale, 1.8);
  EXPECT_DOUBLE_EQ(touch.channels[0].offset, 32);
  EXPECT_EQ(touch.channels[0].debounce_ms, 250u);
  EXPECT_TRUE(touch.channels[1].invert);
  EXPECT_FALSE(touch.channels[1].publish);
  EXPECT_EQ(touch.channels[2].channel, "humidity");
  EXPECT_TRUE(touch.channels[2].publish);

  EXPECT_EQ(c.devices[2].model->name, "relay_extension");    // by type id 0xB
  EXPECT_EQ(c.devices[2].name, "relay_extension-0bff0a01");  // generated
  EXPECT_EQ(c.devices[3].mode, DeviceMode::emulate);
  EXPECT_EQ(c.devices[3].auth, DeviceAuth::test);
  EXPECT_EQ(c.devices[3].firmware, 10031108u);
  EXPECT_EQ(c.devices[5].firmware, 16000610u);
  EXPECT_EQ(c.devices[5].branch, Branch::right);
  EXPECT_EQ(c.devices[6].model, nullptr);  // type learned from the bus
  EXPECT_EQ(c.find_device(0xA0000001u), &c.devices[5]);

  EXPECT_FALSE(c.mqtt.enabled);
  EXPECT_EQ(c.mqtt.broker, "ssl://broker.example:8883");
  EXPECT_EQ(c.mqtt.password_file, "/etc/loxcan/mqtt.pw");
  EXPECT_TRUE(c.mqtt.tls.insecure);
  EXPECT_EQ(c.mqtt.protocol, MqttProtocol::v5);
  EXPECT_EQ(c.mqtt.base_topic, "home/loxone");
  EXPECT_TRUE(c.mqtt.raw_rx && c.mqtt.raw_tx && !c.mqtt.raw_unknown);
  EXPECT_FALSE(c.mqtt.homeassistant_enabled);
  EXPECT_EQ(c.mqtt.homeassistant_prefix, "ha");
  EXPECT_EQ(c.mqtt.homeassistant_mode, HaDiscoveryMode::entity);
  EXPECT_DOUBLE_EQ(c.mqtt.rate_limit, 2.5);
  EXPECT_EQ(c.mqtt.loxberry, Tristate::off);
  EXPECT_EQ(c.emulation.auth, EmulationAuth::test);
  EXPECT_EQ(c.emulation.firmware, 10031127u);
  EXPECT_FALSE(c.discovery.at_start);
  EXPECT_EQ(c.discovery.timeout_s, 10u);
  EXPECT_EQ(c.logging.level, "debug");
  EXPECT_EQ(c.logging.levels.at("can"), "trace");
  EXPECT_EQ(c.logging.levels.at("mqtt"), "warn");
  EXPECT_EQ(c.logging.levels.count("proto"), 0u);
}

TEST(ConfigErrors, MissingFileNamesTheFileAndTheReason) {
  try {
    load_file("/nonexistent/loxcan.yaml", registry());
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.errors().size(), 1u);
    EXPECT_EQ(e.errors()[0].to_string(),
              "/nonexistent/loxcan.yaml: cannot read: No such file or directory");
  }
}

TEST(ConfigErrors, WhatJoinsEveryDiagnostic) {
  try {
    parse("mqtt: {brokr: x, enabeld: true}\n", "f.yaml", registry());
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "f.yaml:1:8: mqtt.brokr: unknown key (did you mean 'broker'?)\n"
                 "f.yaml:1:18: mqtt.enabeld: unknown key (did you mean 'enabled'?)");
  }
}

TEST(ConfigVersion, ParsesDottedAndDecimal) {
  EXPECT_EQ(parse_version("10.3.11.8"), 10031108u);
  EXPECT_EQ(parse_version("10031108"), 10031108u);
  EXPECT_EQ(parse_version("16.0.6.10"), 16000610u);
  EXPECT_FALSE(parse_version("10.3.11"));
  EXPECT_FALSE(parse_version("10.3.11.8.1"));
  EXPECT_FALSE(parse_version("10.300.1.1"));
  EXPECT_FALSE(parse_version(""));
  EXPECT_FALSE(parse_version("1..2.3"));
}

TEST(ConfigCheck, ReturnsExConfigAndPrintsEveryError) {
  char* out_buf = nullptr;
  char* err_buf = nullptr;
  std::size_t out_len = 0, err_len = 0;
  std::FILE* out = open_memstream(&out_buf, &out_len);
  std::FILE* err = open_memstream(&err_buf, &err_len);
  const std::string bad = std::string(TEST_DATA_DIR) + "/config/bad/many_errors.yaml";
  EXPECT_EQ(check_config(bad, registry(), out, err), 78);
  EXPECT_EQ(check_config(std::string(LOXCAN_ETC_DIR) + "/loxcan.yaml", registry(), out, err), 0);
  std::fclose(out);
  std::fclose(err);
  std::string o(out_buf, out_len), e(err_buf, err_len);
  std::free(out_buf);
  std::free(err_buf);
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 4);
  EXPECT_NE(e.find(bad + ":5:13: devices[0].serial: expected 8 hex digits, got '13G1'"),
            std::string::npos);
  EXPECT_EQ(o, std::string(LOXCAN_ETC_DIR) + "/loxcan.yaml: OK (1 interface, 0 devices)\n");
}

// The did-you-mean hint: one edit per four characters (1..3), a swap of neighbours is one edit.
TEST(ConfigHint, ClosestWithinEditDistance) {
  using detail::closest;
  const std::vector<std::string> keys = {"name", "interface", "stats_interval_s", "rcvbuf",
                                         "parent"};
  EXPECT_EQ(closest("nmae", keys), "name");            // swap
  EXPECT_EQ(closest("nam", keys), "name");             // deletion
  EXPECT_EQ(closest("interfaec", keys), "interface");  // swap at the end
  EXPECT_EQ(closest("interfac", keys), "interface");   // deletion, long word
  EXPECT_EQ(closest("stats_intervals", keys), "stats_interval_s");
  EXPECT_EQ(closest("stats_intrvl_s", keys), "stats_interval_s");  // 2 edits (limit 3 at 12+ chars)
  EXPECT_EQ(closest("st_intrval", keys), "");                      // 4 edits: too far
  EXPECT_EQ(closest("rcvbfu", keys), "rcvbuf");
  EXPECT_EQ(closest("xyz", keys), "");
  EXPECT_EQ(closest(std::string(100000, 'n'), keys), "");  // a huge key: no match, no blow-up
}
