// Merging findings by serial and the JSON list published on <base>/bridge/miniservers.
#include "gateway/lan/miniserver_info.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gateway/lan/loxlive.hpp"

namespace loxcan::lan {
namespace {

Miniserver udp_one() {
  auto r = parse_loxlive(
      "LoxLIVE: Loxone Miniserver 192.168.178.32:80 504F11223344 10.2.3.26 Prog:2019-04-24 "
      "21:08:03 Type:0 HwId:A0000 IPv6:,0c112233:10020217/O");
  EXPECT_TRUE(r);
  Miniserver ms = *r;
  ms.source = "192.168.178.32";
  return ms;
}

Miniserver ssdp_one() {
  Miniserver ms;
  ms.serial = "504F11223344";
  ms.name = "Old Name";
  ms.address = "192.168.178.32";
  ms.port = 80;
  ms.friendly_name = "Loxone Miniserver";
  ms.model_number = "1";
  ms.udn = "uuid:aabbccdd-eeff-0011-2233-445566778899";
  ms.presentation_url = "http://192.168.178.32:80/index.html";
  ms.location = "http://192.168.178.32:80/upnp.xml";
  ms.source = "192.168.178.32";
  ms.via_ssdp = true;
  return ms;
}

TEST(Merge, SameSerialFromBothMethodsBecomesOneEntryUdpNameWins) {
  for (bool udp_first : {true, false}) {
    std::vector<Miniserver> list;
    merge_into(list, udp_first ? udp_one() : ssdp_one());
    merge_into(list, udp_first ? ssdp_one() : udp_one());
    merge_into(list, udp_one());  // repeated answers change nothing
    ASSERT_EQ(list.size(), 1u) << "udp_first=" << udp_first;
    const Miniserver& m = list[0];
    EXPECT_EQ(m.name, "Loxone Miniserver") << "udp_first=" << udp_first;
    EXPECT_EQ(m.firmware, "10.2.3.26");
    EXPECT_EQ(m.udn, "uuid:aabbccdd-eeff-0011-2233-445566778899");
    EXPECT_TRUE(m.via_udp);
    EXPECT_TRUE(m.via_ssdp);
  }
}

TEST(Merge, DifferentSerialsStaySeparateAndSort) {
  std::vector<Miniserver> list;
  Miniserver b = udp_one();
  b.serial = "504F000000B0";
  b.address = "10.0.0.3";
  merge_into(list, udp_one());
  merge_into(list, b);
  Miniserver no_serial = ssdp_one();
  no_serial.serial.clear();
  no_serial.address = "10.0.0.99";
  merge_into(list, no_serial);
  sort_miniservers(list);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].serial, "504F000000B0");
  EXPECT_EQ(list[1].serial, "504F11223344");
  EXPECT_EQ(list[2].serial, "");
}

TEST(Merge, EntryWithoutSerialJoinsBySameAddress) {
  std::vector<Miniserver> list;
  merge_into(list, udp_one());
  Miniserver no_serial = ssdp_one();
  no_serial.serial.clear();
  merge_into(list, no_serial);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_TRUE(list[0].via_ssdp);
  EXPECT_EQ(list[0].serial, "504F11223344");
}

TEST(Json, ExactPayloadForOneUdpFinding) {
  EXPECT_EQ(miniservers_json({udp_one()}),
            R"([{"serial":"504F11223344","name":"Loxone Miniserver","address":"192.168.178.32",)"
            R"("port":80,"firmware":"10.2.3.26","config_date":"2019-04-24 21:08:03","type":0,)"
            R"("hw_id":"A0000","ipv6":",0c112233:10020217/O","friendly_name":null,)"
            R"("model_number":null,"udn":null,"presentation_url":null,"location":null,)"
            R"("source":"192.168.178.32","found_by":["udp"]}])");
}

TEST(Json, EmptyListAndInvalidUtf8NeverThrow) {
  EXPECT_EQ(miniservers_json({}), "[]");
  Miniserver ms = udp_one();
  ms.name = "bad \xC3\x28 utf8";
  const auto j = nlohmann::json::parse(miniserver_json(ms));
  EXPECT_EQ(j["name"], "bad \xEF\xBF\xBD( utf8");
}

TEST(Serial, Shapes) {
  EXPECT_TRUE(is_serial("504F11223344"));
  EXPECT_TRUE(is_serial("504f11223344"));
  EXPECT_FALSE(is_serial("504F1122334"));
  EXPECT_FALSE(is_serial("504F11223344 "));
  EXPECT_FALSE(is_serial("504F1122334Z"));
  EXPECT_EQ(canonical_serial("504f0aabbccd"), "504F0AABBCCD");
}

}  // namespace
}  // namespace loxcan::lan
