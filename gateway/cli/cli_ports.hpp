#pragma once
// Shared plumbing for the CLI verbs that talk to live interfaces (`record`, `replay`, `decode
// --iface`): interface specs, a group of CanPorts on one loop, signals and statistics output.
//
// Interface spec (the value of --iface):  NAME[:ROLE]   ROLE = link (default) | tree-left |
// tree-right
//   "can0"  "vcan1:tree-left"  "can2:right"
//
// Signals installed by install_cli_signals(): SIGINT/SIGTERM stop the loop (then the verb prints
// its summary), SIGUSR1 prints one statistics line per interface to stderr at once, SIGPIPE is
// ignored (a closed pipe then shows up as a write error).
//
// Statistics lines (stderr, one per interface; the format of canio::CanPort::stats_line()):
//   "stats vcan0 role=link state=up ctrl=unknown bitrate=125000(nominal) rx=10 ... load=0.1% ..."

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/canio/can_port.hpp"
#include "gateway/loop/event_loop.hpp"

namespace loxcan::cli {

struct IfaceSpec {
  std::string name;
  canio::Role role = canio::Role::link;
};
/// nullopt for an empty or over-long name (> 15 characters) or an unknown role.
std::optional<IfaceSpec> parse_iface_spec(std::string_view text);

/// Options every live verb shares (parsed by the verb, applied by PortGroup::add).
struct PortOptions {
  int rcvbuf = 1 << 20;
  bool configure_link = false;
  std::uint32_t restart_ms = 100;
  std::size_t tx_queue_limit = 1024;
};

class PortGroup {
 public:
  explicit PortGroup(gateway::EventLoop& loop) : loop_(loop) {}

  /// Adds a port (not started yet) and returns it.
  canio::CanPort& add(canio::PortConfig config);
  canio::CanPort* find(std::string_view iface);
  const std::vector<std::unique_ptr<canio::CanPort>>& ports() const { return ports_; }

  /// Starts every port. An interface that does not exist (or cannot be opened) at start is an
  /// error: prints "<verb>: <message>" and returns EX_UNAVAILABLE; 0 when all are open.
  int start_all(const char* verb);
  void stop_all();

  /// One "stats ..." line per port.
  void print_stats(std::FILE* out);
  /// Sum of a counter over all ports.
  template <class Fn>
  std::uint64_t total(Fn&& counter) {
    std::uint64_t sum = 0;
    for (auto& p : ports_) sum += counter(p->stats());
    return sum;
  }

 private:
  gateway::EventLoop& loop_;
  std::vector<std::unique_ptr<canio::CanPort>> ports_;
};

/// Applies PortOptions to a config made by canio::PortConfig::for_role().
canio::PortConfig make_port_config(const IfaceSpec& spec, const PortOptions& options);

/// SIGINT/SIGTERM -> on_stop (default: loop.stop()), SIGUSR1 -> group.print_stats(stderr).
void install_cli_signals(gateway::EventLoop& loop, PortGroup& group,
                         std::function<void()> on_stop = {});

/// Prints "<verb>: <fmt with arg>" and a pointer to --help to stderr; returns EX_USAGE.
int usage_error(const char* verb, const char* fmt, const char* arg);

/// Parses a non-negative decimal (with an optional fraction for seconds); false on junk.
bool parse_seconds(std::string_view text, double& out);
bool parse_count(std::string_view text, std::uint64_t& out);

}  // namespace loxcan::cli
