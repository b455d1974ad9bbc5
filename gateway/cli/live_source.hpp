#pragma once
// LiveSource: live frames from one or more CAN interfaces for pull-style consumers (`loxcan
// decode --iface`): next() runs the event loop until a frame is there, and returns false once the
// source ended (SIGINT/SIGTERM, --duration, --count). Frames already received are delivered
// before the end is reported.
//
//   LiveSource live({{"can0", canio::Role::link}}, {});
//   if (int rc = live.start("loxcan decode"); rc != 0) return rc;   // EX_UNAVAILABLE + message
//   live.set_idle_hook([&] { out.flush(); });   // called before the loop waits for the bus
//   canproto::Frame f;
//   while (live.next(f)) decode(f);
//   live.finish();   // prints "stats ..." lines to stderr when LiveOptions::stats
//
// Signals: SIGINT/SIGTERM end the source, SIGUSR1 prints the statistics lines (cli_ports.hpp).

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "gateway/cli/cli_ports.hpp"

namespace loxcan::cli {

struct LiveOptions {
  PortOptions port;
  bool loxone_only = true;  ///< kernel filters for the role's Loxone frames
  bool errors = false;      ///< also deliver error frames (Frame::error set)
  bool stats = false;       ///< finish() prints statistics lines to stderr
  double duration = -1;     ///< seconds; < 0: no limit
  std::uint64_t count = 0;  ///< frames; 0: no limit
};

class LiveSource {
 public:
  LiveSource(std::vector<IfaceSpec> ifaces, LiveOptions options);
  int start(const char* verb);
  bool next(canproto::Frame& frame);
  void set_idle_hook(std::function<void()> hook) { idle_hook_ = std::move(hook); }
  void finish();

 private:
  void push(const canproto::Frame& f);

  gateway::EventLoop loop_;
  PortGroup group_;
  std::vector<IfaceSpec> ifaces_;
  LiveOptions options_;
  std::deque<canproto::Frame> queue_;
  std::function<void()> idle_hook_;
  std::uint64_t delivered_ = 0, accepted_ = 0;
  bool ended_ = false;
};

}  // namespace loxcan::cli
