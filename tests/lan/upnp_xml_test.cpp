// upnp.xml parser: golden files in tests/data/lan plus inline broken documents.
#include "gateway/lan/upnp_xml.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace loxcan::lan {
namespace {

std::string read_data(const std::string& name) {
  std::ifstream f(std::string(TEST_DATA_DIR) + "/lan/" + name, std::ios::binary);
  EXPECT_TRUE(f) << "missing test file " << name;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(UpnpXml, RealMiniserverDescription) {
  auto r = parse_upnp_xml(read_data("upnp_miniserver.xml"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->friendly_name, "Loxone Miniserver");
  EXPECT_EQ(r->serial_number, "504F11223344");
  EXPECT_EQ(r->model_number, "1");
  EXPECT_EQ(r->udn, "uuid:aabbccdd-eeff-0011-2233-445566778899");
  EXPECT_EQ(r->presentation_url, "http://192.168.178.32:80/index.html");
  EXPECT_EQ(r->hidden_name, "Loxone Miniserver");
  EXPECT_TRUE(r->model_description.starts_with("Loxone Electronics home control"));
}

TEST(UpnpXml, NamespacePrefixTrimmingAndUtf8HiddenName) {
  auto r = parse_upnp_xml(read_data("upnp_prefixed_utf8.xml"));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->friendly_name,
            "Haus S\xC3\xBC"
            "d 2.0");
  EXPECT_EQ(r->serial_number, "504f0aabbccd");
  EXPECT_EQ(r->hidden_name,
            "Haus S\xC3\xBC"
            "d");
  EXPECT_EQ(r->presentation_url, "http://10.1.1.2:8080/");
}

struct Bad {
  const char* row;
  std::string xml;
  std::string error_part;
};

class UpnpXmlBad : public testing::TestWithParam<Bad> {};

TEST_P(UpnpXmlBad, GivesClearError) {
  const Bad& b = GetParam();
  auto r = parse_upnp_xml(b.xml);
  ASSERT_FALSE(r) << b.row << " parsed unexpectedly";
  EXPECT_NE(r.error().find(b.error_part), std::string::npos)
      << b.row << ": '" << r.error() << "' lacks '" << b.error_part << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Rows, UpnpXmlBad,
    testing::Values(Bad{"truncated", read_data("upnp_truncated.xml"), "not well-formed"},
                    Bad{"wrong_root", read_data("upnp_wrong_root.xml"), "no <root>"},
                    Bad{"no_device", read_data("upnp_no_device.xml"), "no <root><device>"},
                    Bad{"empty", "", "empty"},
                    Bad{"not_xml", "HTTP/1.1 404 Not Found", "not well-formed"},
                    Bad{"binary", std::string("\x00\xff\xfe<", 4), "not well-formed"},
                    Bad{"deep_nesting", std::string(5000, '<').insert(0, "<root>"),
                        "not well-formed"},
                    Bad{"nesting_bomb",
                        [] {
                          std::string s;
                          for (int i = 0; i < 3000; ++i) s += "<a>";
                          return s;
                        }(),
                        "not well-formed"},
                    Bad{"huge", "<root><device>" + std::string(70000, ' ') + "</device></root>",
                        "exceeds the limit of 65536"}),
    [](const testing::TestParamInfo<Bad>& i) { return std::string(i.param.row); });

TEST(UpnpXml, MissingFieldsStayEmpty) {
  auto r =
      parse_upnp_xml("<root><device><serialNumber>504F11223344</serialNumber></device></root>");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->serial_number, "504F11223344");
  EXPECT_EQ(r->friendly_name, "");
  EXPECT_EQ(r->hidden_name, "");
}

TEST(UpnpXml, EntitiesAreDecodedButNotExpandedFromDtd) {
  auto r = parse_upnp_xml(
      "<!DOCTYPE root [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<root><device><friendlyName>A &amp; B &x;</friendlyName></device></root>");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->friendly_name.find("root:"), std::string::npos);
  EXPECT_EQ(r->friendly_name.substr(0, 5), "A & B");
}

TEST(HiddenName, Shapes) {
  EXPECT_EQ(decode_hidden_name("x (Loxone Miniserver: *4B656C6C6572 10.0.0.2:80)"), "Keller");
  EXPECT_EQ(decode_hidden_name("*4b656c6c6572"), "Keller");
  EXPECT_EQ(decode_hidden_name("no star here"), "");
  EXPECT_EQ(decode_hidden_name("odd *4B6"), "");
  EXPECT_EQ(decode_hidden_name("empty * 10.0.0.2"), "");
  EXPECT_EQ(decode_hidden_name("control *4B0A"), "");
}

}  // namespace
}  // namespace loxcan::lan
