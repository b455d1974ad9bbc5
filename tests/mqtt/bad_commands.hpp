#pragma once
// Bad `/set` commands against the sample devices (sample_devices.hpp), with the error each must
// produce. Shared by the bridge unit test (mock client) and the broker test (real mosquitto).

#include <string>
#include <vector>

#include "mqtt/payload.hpp"

namespace loxcan::mqtt::test {

struct BadCommand {
  std::string device;   ///< topic segment
  std::string channel;  ///< topic segment
  std::string payload;
  CommandError error;
};

inline std::vector<BadCommand> bad_commands() {
  using E = CommandError;
  const std::string ext = "extension-13001234", rgb = "rgbwdimmer-a1b2c3d4", val = "valve-0a0b0c0d";
  std::vector<BadCommand> v = {
      // boolean relay q1
      {ext, "q1", "2", E::wrong_type},
      {ext, "q1", "yes please", E::wrong_type},
      {ext, "q1", "-1", E::wrong_type},
      {ext, "q1", "0.5", E::wrong_type},
      {ext, "q1", "onn", E::wrong_type},
      {ext, "q1", "", E::empty},
      {ext, "q1", "   ", E::empty},
      {ext, "q1", "{\"state\":\"MAYBE\"}", E::wrong_type},
      {ext, "q1", "{\"value\":1,\"extra\":2}", E::unknown_key},
      {ext, "q1", "{\"q1\":1}", E::unknown_key},
      {ext, "q1", "{\"value\":[1]}", E::wrong_type},
      {ext, "q1", "[1]", E::wrong_type},
      {ext, "q1", "{\"state\":", E::bad_json},
      {ext, "q1", "{}", E::unknown_key},
      {ext, "q1", "\"on", E::bad_json},
      {ext, "q1", "null", E::wrong_type},
      // number aq1 0..10 V
      {ext, "aq1", "11", E::out_of_range},
      {ext, "aq1", "-0.1", E::out_of_range},
      {ext, "aq1", "1e9", E::out_of_range},
      {ext, "aq1", "abc", E::wrong_type},
      {ext, "aq1", "5,5", E::wrong_type},
      {ext, "aq1", "0x5", E::wrong_type},
      {ext, "aq1", "nan", E::wrong_type},
      {ext, "aq1", "inf", E::wrong_type},
      {ext, "aq1", "--5", E::wrong_type},
      {ext, "aq1", "5 V", E::wrong_type},
      {ext, "aq1", "{\"value\":\"x\"}", E::wrong_type},
      {ext, "aq1", "{\"value\":true}", E::wrong_type},
      {ext, "aq1", "{\"value\":99}", E::out_of_range},
      {ext, "aq1", "{\"volts\":5}", E::unknown_key},
      {ext, "aq1", "ON", E::wrong_type},
      {ext, "aq1", "1e400", E::wrong_type},
      // text label
      {ext, "label", std::string(300, 'x'), E::too_long},
      {ext, "label", "{\"value\":5}", E::wrong_type},
      // rgbw light
      {rgb, "rgbw", "{\"state\":\"ON\",\"brightness\":101}", E::out_of_range},
      {rgb, "rgbw", "{\"color\":{\"r\":256}}", E::out_of_range},
      {rgb, "rgbw", "{\"color\":{\"x\":1}}", E::unknown_key},
      {rgb, "rgbw", "{\"colour\":{\"r\":1}}", E::unknown_key},
      {rgb, "rgbw", "{\"state\":1}", E::wrong_type},
      {rgb, "rgbw", "{\"color\":\"red\"}", E::wrong_type},
      {rgb, "rgbw", "1,2,3", E::wrong_type},
      {rgb, "rgbw", "1,2,3,400", E::out_of_range},
      {rgb, "rgbw", "red", E::wrong_type},
      {rgb, "rgbw", "{}", E::wrong_type},
      {rgb, "rgbw", "{\"brightness\":\"full\"}", E::wrong_type},
      // valve
      {val, "pos", "STOP", E::unsupported},
      {val, "pos", "150", E::out_of_range},
      {val, "pos", "half", E::wrong_type},
      // topics
      {ext, "nosuch", "1", E::unknown_channel},
      {"nosuchdevice", "q1", "1", E::unknown_device},
      {ext, "ai1", "5", E::not_writable},
      {ext, "i1", "1", E::not_writable},
      // size and encoding
      {ext, "q1", std::string(5000, '1'), E::too_long},
      {ext, "q1", std::string(1 << 20, '{'), E::too_long},
      {ext, "q1", std::string("\xff\xfe\x00\x01", 4), E::not_utf8},
      {ext, "q1", std::string("1\0", 2), E::not_utf8},
      {ext, "q1", "\xc3\x28", E::not_utf8},
      {ext, "q1", "\xed\xa0\x80", E::not_utf8},  // surrogate
      {ext, "q1", "\xc0\xaf", E::not_utf8},
      {ext, "q1", "\xf4\x90\x80\x80", E::not_utf8},  // overlong, > U+10FFFF
      {ext, "label", "\xe2\x82", E::not_utf8},
      {ext, "q1", std::string(1000, '['), E::bad_json},
  };
  return v;
}

}  // namespace loxcan::mqtt::test
