#include "devices/monitor.hpp"

#include "canproto/candump.hpp"

namespace loxcan::devices {
namespace {

std::string packet_text(const canproto::PacketInfo& p) {
  return std::to_string(p.payload.size()) + " of " + std::to_string(p.size) +
         " bytes of packet 0x" + [](unsigned c) {
           char b[3];
           std::snprintf(b, sizeof b, "%02X", c);
           return std::string(b);
         }(p.cmd);
}

}  // namespace

BusMonitor::BusMonitor(const Registry& registry, InventoryOptions options)
    : inventory_(registry, options) {}

void BusMonitor::set_bus(const std::string& iface, canproto::Bus bus) {
  buses_[iface] = bus;
}

canproto::Decoder& BusMonitor::decoder_for(const canproto::Frame& frame) {
  const std::string_view iface = frame.iface.view();
  auto it = decoders_.find(iface);
  if (it != decoders_.end()) return it->second;
  auto b = buses_.find(iface);
  canproto::Bus bus = b == buses_.end() ? canproto::Bus::link : b->second;
  return decoders_.emplace(std::string(iface), canproto::Decoder(bus)).first->second;
}

void BusMonitor::feed(const canproto::Frame& frame, std::vector<Event>& out) {
  const canproto::Decoded& d = decoder_for(frame).feed(frame, frame.ts_ns);
  inventory_.feed(d, frame.ts_ns, out);
  if (d.fragment_problem) {
    out.push_back(BusEvent{"fragment_problem", d.fragment_problem, canproto::format_compact(frame),
                           frame.ts_ns});
  }
  if (d.abandoned) {
    out.push_back(BusEvent{
        "packet_abandoned",
        packet_text(*d.abandoned) + ": " + (d.abandon_reason ? d.abandon_reason : "abandoned"),
        canproto::format_compact(frame), frame.ts_ns});
  }
}

void BusMonitor::finish(std::int64_t now_ns, std::vector<Event>& out) {
  for (auto& [iface, dec] : decoders_) {
    dec.expire(INT64_MAX, [&](const canproto::PacketInfo& p, const char* why) {
      out.push_back(BusEvent{"packet_abandoned", packet_text(p) + ": " + why, "", now_ns});
    });
  }
  inventory_.tick(now_ns, out);
}

}  // namespace loxcan::devices
