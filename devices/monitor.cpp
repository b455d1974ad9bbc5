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

BusMonitor::Port& BusMonitor::port_for(const canproto::Frame& frame) {
  const std::string_view iface = frame.iface.view();
  auto it = ports_.find(iface);
  if (it != ports_.end()) return it->second;
  auto b = buses_.find(iface);
  canproto::Bus bus = b == buses_.end() ? canproto::Bus::link : b->second;
  return ports_.emplace(std::string(iface), Port(bus)).first->second;
}

void BusMonitor::feed(const canproto::Frame& frame, std::vector<Event>& out) {
  feed(port_for(frame), frame, frame.ts_ns, out);
}

const canproto::Decoded& BusMonitor::feed(Port& port, const canproto::Frame& frame,
                                          std::int64_t ts_ns, std::vector<Event>& out) {
  const canproto::Decoded& d = port.decoder.feed(frame, ts_ns);
  if (!port.feeds_inventory) return d;
  inventory_.feed(d, ts_ns, out);
  if (d.fragment_problem) {
    out.push_back(
        BusEvent{"fragment_problem", d.fragment_problem, canproto::format_compact(frame), ts_ns});
  }
  if (d.abandoned) {
    out.push_back(BusEvent{
        "packet_abandoned",
        packet_text(*d.abandoned) + ": " + (d.abandon_reason ? d.abandon_reason : "abandoned"),
        canproto::format_compact(frame), ts_ns});
  }
  return d;
}

void BusMonitor::expire(Port& port, std::int64_t now_ns, std::vector<Event>& out) {
  abandon(port, now_ns, now_ns, out);
}

void BusMonitor::abandon(Port& port, std::int64_t deadline_ns, std::int64_t ts_ns,
                         std::vector<Event>& out) {
  port.decoder.expire(deadline_ns, [&](const canproto::PacketInfo& p, const char* why) {
    if (port.feeds_inventory) {
      out.push_back(BusEvent{"packet_abandoned", packet_text(p) + ": " + why, "", ts_ns});
    }
  });
}

void BusMonitor::finish(std::int64_t now_ns, std::vector<Event>& out) {
  for (auto& [iface, port] : ports_) abandon(port, INT64_MAX, now_ns, out);
  inventory_.tick(now_ns, out);
}

}  // namespace loxcan::devices
