#include "gateway/cli/cli_ports.hpp"

#include <sysexits.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>

namespace loxcan::cli {

std::optional<IfaceSpec> parse_iface_spec(std::string_view text) {
  IfaceSpec spec;
  const auto colon = text.find(':');
  spec.name = std::string(text.substr(0, colon));
  if (spec.name.empty() || spec.name.size() > canproto::kMaxIfaceName) return std::nullopt;
  if (colon != std::string_view::npos) {
    auto role = canio::parse_role(text.substr(colon + 1));
    if (!role) return std::nullopt;
    spec.role = *role;
  }
  return spec;
}

canio::PortConfig make_port_config(const IfaceSpec& spec, const PortOptions& options) {
  canio::PortConfig c = canio::PortConfig::for_role(spec.name, spec.role);
  c.socket.rcvbuf = options.rcvbuf;
  c.configure_link = options.configure_link;
  c.restart_ms = options.restart_ms;
  c.tx_queue_limit = options.tx_queue_limit;
  return c;
}

canio::CanPort& PortGroup::add(canio::PortConfig config) {
  ports_.push_back(std::make_unique<canio::CanPort>(loop_, std::move(config)));
  return *ports_.back();
}

canio::CanPort* PortGroup::find(std::string_view iface) {
  for (auto& p : ports_)
    if (p->iface() == iface) return p.get();
  return nullptr;
}

int PortGroup::start_all(const char* verb) {
  for (auto& p : ports_) {
    if (auto r = p->start(); !r) {
      std::fprintf(stderr, "%s: %s\n", verb, r.error().message().c_str());
      return EX_UNAVAILABLE;
    }
  }
  return 0;
}

void PortGroup::stop_all() {
  for (auto& p : ports_) p->stop();
}

void PortGroup::print_stats(std::FILE* out) {
  for (auto& p : ports_) std::fprintf(out, "stats %s\n", p->stats_line().c_str());
  std::fflush(out);
}

void install_cli_signals(gateway::EventLoop& loop, PortGroup& group,
                         std::function<void()> on_stop) {
  std::signal(SIGPIPE, SIG_IGN);
  auto stop = on_stop ? std::move(on_stop) : std::function<void()>([&loop] { loop.stop(); });
  loop.on_signal(SIGINT, stop);
  loop.on_signal(SIGTERM, stop);
  loop.on_signal(SIGUSR1, [&group] { group.print_stats(stderr); });
}

int usage_error(const char* verb, const char* fmt, const char* arg) {
  std::fprintf(stderr, "%s: ", verb);
  std::fprintf(stderr, fmt, arg);  // NOLINT: fmt is always a literal of the caller
  std::fprintf(stderr, "\n(see %s --help)\n", verb);
  return EX_USAGE;
}

bool parse_seconds(std::string_view text, double& out) {
  if (text.empty()) return false;
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return errno == 0 && end && *end == '\0' && out >= 0 && s.find_first_of("xXpPnN") == s.npos;
}

bool parse_count(std::string_view text, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && !text.empty();
}

}  // namespace loxcan::cli
