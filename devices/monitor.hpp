#pragma once
// BusMonitor: frames in, typed device events out — the canproto Decoder (one per interface) feeding
// the Inventory. The composition `loxcan decode --events`, `loxcan devices` and the daemon share.
//
//   BusMonitor mon(registry);
//   mon.set_bus("can1", canproto::Bus::tree);     // default: every interface is a Link bus
//   std::vector<Event> events;
//   for (each frame f) mon.feed(f, events);       // uses f.ts_ns as the time
//   mon.finish(last_ts, events);                  // flush half-finished packets, silence check
//
// Decoder problems become BusEvents: "fragment_problem" (an orphan 0xF1, ...) and
// "packet_abandoned" (a packet that never completed), naming the frames.

#include <map>
#include <string>
#include <vector>

#include "canproto/decoder.hpp"
#include "devices/inventory.hpp"

namespace loxcan::devices {

class BusMonitor {
 public:
  explicit BusMonitor(const Registry& registry, InventoryOptions options = {});

  /// Which bus `iface` is on (frames with an empty interface name use "").
  void set_bus(const std::string& iface, canproto::Bus bus);

  void feed(const canproto::Frame& frame, std::vector<Event>& out);
  /// Gives up packets still in progress and marks devices silent since before `now_ns - timeout`.
  void finish(std::int64_t now_ns, std::vector<Event>& out);
  /// Silence check only (call periodically on a live bus).
  void tick(std::int64_t now_ns, std::vector<Event>& out) { inventory_.tick(now_ns, out); }

  Inventory& inventory() { return inventory_; }
  const Inventory& inventory() const { return inventory_; }

 private:
  canproto::Decoder& decoder_for(const canproto::Frame& frame);

  Inventory inventory_;
  std::map<std::string, canproto::Bus, std::less<>> buses_;
  std::map<std::string, canproto::Decoder, std::less<>> decoders_;  // found by string_view
};

}  // namespace loxcan::devices
