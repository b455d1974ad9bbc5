#pragma once
// BusMonitor: frames in, typed device events out — the canproto Decoder (one per interface) feeding
// the Inventory. The one seam the daemon and the CLI (`loxcan decode --events`, `loxcan devices`)
// share between the bus and everything that uses device events (doc/ARCHITECTURE.md).
//
//   BusMonitor mon(registry);
//   mon.set_bus("can1", canproto::Bus::tree);     // default: every interface is a Link bus
//   std::vector<Event> events;
//   for (each frame f) mon.feed(f, events);       // uses f.ts_ns as the time
//   mon.finish(last_ts, events);                  // flush half-finished packets, silence check
//
// A caller that knows each frame's interface (the daemon: one Port per CAN port) keeps the Port
// itself and saves the lookup by name:
//   BusMonitor::Port link{canproto::Bus::link};            // feeds the inventory
//   BusMonitor::Port branch{canproto::Bus::tree, false};   // decode only (its frames reach the
//                                                          // Link bus re-emitted anyway)
//   const canproto::Decoded& d = mon.feed(link, frame, ts, events);
//   mon.expire(link, now, events);                         // periodically: timed-out packets
//
// Decoder problems become BusEvents: "fragment_problem" (an orphan 0xF1, ...) and
// "packet_abandoned" (a packet that never completed), naming the frames; a decode-only Port
// reports none (its frames are reported where they reach the inventory).

#include <map>
#include <string>
#include <vector>

#include "canproto/decoder.hpp"
#include "devices/inventory.hpp"

namespace loxcan::devices {

class BusMonitor {
 public:
  struct Port {
    explicit Port(canproto::Bus bus, bool feeds_inventory = true)
        : decoder(bus), feeds_inventory(feeds_inventory) {}
    canproto::Decoder decoder;
    bool feeds_inventory;
  };

  explicit BusMonitor(const Registry& registry, InventoryOptions options = {});

  /// Which bus `iface` is on (frames with an empty interface name use "").
  void set_bus(const std::string& iface, canproto::Bus bus);

  void feed(const canproto::Frame& frame, std::vector<Event>& out);
  /// One frame of `port` at `ts_ns`; returns the decoded message (valid until the next feed).
  const canproto::Decoded& feed(Port& port, const canproto::Frame& frame, std::int64_t ts_ns,
                                std::vector<Event>& out);
  /// Gives up `port`'s packets that timed out by `now_ns` ("packet_abandoned" events).
  void expire(Port& port, std::int64_t now_ns, std::vector<Event>& out);
  /// Gives up packets still in progress and marks devices silent since before `now_ns - timeout`.
  void finish(std::int64_t now_ns, std::vector<Event>& out);
  /// Silence check only (call periodically on a live bus).
  void tick(std::int64_t now_ns, std::vector<Event>& out) { inventory_.tick(now_ns, out); }

  Inventory& inventory() { return inventory_; }
  const Inventory& inventory() const { return inventory_; }

 private:
  Port& port_for(const canproto::Frame& frame);
  /// Gives up the packets of `port` older than `deadline_ns`, reporting them at `ts_ns`.
  void abandon(Port& port, std::int64_t deadline_ns, std::int64_t ts_ns, std::vector<Event>& out);

  Inventory inventory_;
  std::map<std::string, canproto::Bus, std::less<>> buses_;
  std::map<std::string, Port, std::less<>> ports_;  // found by string_view
};

}  // namespace loxcan::devices
