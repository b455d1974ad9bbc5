// ns per reply for each discovery parser, on the real reply shapes.
#include <benchmark/benchmark.h>

#include <string>

#include "gateway/lan/cloud_dns.hpp"
#include "gateway/lan/loxlive.hpp"
#include "gateway/lan/ssdp.hpp"
#include "gateway/lan/upnp_xml.hpp"

namespace {

using namespace loxcan::lan;

const std::string kLoxLive =
    "LoxLIVE: Loxone Miniserver 192.168.178.32:80 504F11223344 10.2.3.26 Prog:2019-04-24 21:08:03 "
    "Type:0 HwId:A0000 IPv6:,0c112233:10020217/O";

const std::string kSsdp =
    "HTTP/1.1 200 OK\r\nCACHE-CONTROL:max-age=3600\r\nST:upnp:rootdevice\r\n"
    "USN:uuid:aabbccdd-eeff-0011-2233-445566778899::upnp:rootdevice\r\nEXT:\r\n"
    "SERVER:Loxone Miniserver Loxone Miniserver UPnP/1.0\r\n"
    "LOCATION:http://192.168.178.32:80/upnp.xml\r\n\r\n";

const std::string kUpnp = R"(<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:HVAC_System:1</deviceType>
<friendlyName>Loxone Miniserver</friendlyName><manufacturer>Loxone Electronics GmbH</manufacturer>
<modelDescription>Loxone Electronics home control (Loxone Miniserver: *4C6F786F6E65204D696E69736572766572 192.168.178.32:80 504F11223344 10.2.3.26 IPv6:,0c112233:10020217/O)</modelDescription>
<modelName>Loxone Miniserver</modelName><modelNumber>1</modelNumber><serialNumber>504F11223344</serialNumber>
<UDN>uuid:aabbccdd-eeff-0011-2233-445566778899</UDN>
<presentationURL>http://192.168.178.32:80/index.html</presentationURL></device></root>)";

void BM_LoxLive(benchmark::State& s) {
  for (auto _ : s) benchmark::DoNotOptimize(parse_loxlive(kLoxLive));
}
BENCHMARK(BM_LoxLive);

void BM_LoxLiveLongName(benchmark::State& s) {
  const std::string in = "LoxLIVE: " + std::string(1500, 'n') + " 10.0.0.2:80 504F11223344";
  for (auto _ : s) benchmark::DoNotOptimize(parse_loxlive(in));
}
BENCHMARK(BM_LoxLiveLongName);

void BM_Ssdp(benchmark::State& s) {
  for (auto _ : s) benchmark::DoNotOptimize(parse_ssdp(kSsdp));
}
BENCHMARK(BM_Ssdp);

void BM_UpnpXml(benchmark::State& s) {
  for (auto _ : s) benchmark::DoNotOptimize(parse_upnp_xml(kUpnp));
}
BENCHMARK(BM_UpnpXml);

void BM_CloudDnsRedirect(benchmark::State& s) {
  for (auto _ : s)
    benchmark::DoNotOptimize(parse_cloud_dns_reply(
        "504F11223344", 302, "https://203-0-113-7.504f11223344.dyndns.loxonecloud.com:4443/"));
}
BENCHMARK(BM_CloudDnsRedirect);

}  // namespace
