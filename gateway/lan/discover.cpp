#include "gateway/lan/discover.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <utility>

#include "gateway/lan/loxlive.hpp"
#include "gateway/lan/ssdp.hpp"
#include "gateway/lan/upnp_xml.hpp"
#include "gateway/lan/url.hpp"

namespace loxcan::lan {
namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<spdlog::logger> logger() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  auto l = spdlog::get("disc");
  return l ? l : spdlog::stderr_color_mt("disc");
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct Iface {
  std::string name;
  in_addr addr{};
  std::optional<in_addr> broadcast;
  bool multicast = false;
};

std::string ntoa(in_addr a) {
  char buf[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

Expected<std::vector<Iface>, std::string> list_interfaces(const std::string& filter) {
  ifaddrs* all = nullptr;
  if (getifaddrs(&all) != 0) return unexpected(errno_text("getifaddrs"));
  std::vector<Iface> out;
  for (ifaddrs* i = all; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)) continue;
    Iface f;
    f.name = i->ifa_name;
    f.addr = reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr;
    if (filter.empty() ? (i->ifa_flags & IFF_LOOPBACK) != 0
                       : (filter != f.name && filter != ntoa(f.addr)))
      continue;
    // Computed from address and netmask: ifa_broadaddr is unreliable when no "brd" was set.
    if ((i->ifa_flags & IFF_BROADCAST) && i->ifa_netmask) {
      const auto mask = reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr;
      if (mask != INADDR_BROADCAST) f.broadcast = in_addr{f.addr.s_addr | ~mask};
    }
    f.multicast = (i->ifa_flags & IFF_MULTICAST) != 0;
    out.push_back(f);
  }
  freeifaddrs(all);
  if (out.empty())
    return unexpected(filter.empty() ? std::string("no IPv4 interface is up")
                                     : "no IPv4 interface matches '" + filter + "'");
  return out;
}

sockaddr_in sockaddr_of(in_addr a, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr = a;
  sa.sin_port = htons(port);
  return sa;
}

Expected<Fd, std::string> udp_socket(in_addr addr, std::uint16_t port, bool reuse) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return unexpected(errno_text("socket"));
  const int one = 1;
  if (reuse) {
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  const sockaddr_in sa = sockaddr_of(addr, port);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
    return unexpected(errno_text("cannot bind UDP " + ntoa(addr) + ":" + std::to_string(port)) +
                      (errno == EADDRINUSE ? " (another discovery or the daemon running?)" : ""));
  return fd;
}

// One discovery run: owns the sockets and what was found so far.
class Session {
 public:
  Session(const DiscoveryOptions& o, std::stop_token st, std::vector<Iface> ifaces)
      : opts_(o), stop_(std::move(st)), ifaces_(std::move(ifaces)) {}

  DiscoveryResult run();

 private:
  bool open_udp();
  bool open_ssdp();
  void send_probes();
  void send_msearch();
  void drain(int fd, bool ssdp);
  void on_loxlive(std::string_view data, const std::string& from);
  void on_ssdp(std::string_view data, const std::string& from);
  Miniserver from_location(const SsdpMessage& m, const std::string& from);

  const DiscoveryOptions& opts_;
  std::stop_token stop_;
  std::vector<Iface> ifaces_;
  Fd udp_rx_, udp_tx_, ssdp_search_, ssdp_notify_;
  std::vector<Miniserver> found_;
  std::set<std::string> locations_;
  std::vector<std::string> problems_;
};

bool Session::open_udp() {
  auto rx = udp_socket(in_addr{htonl(INADDR_ANY)}, opts_.reply_port, false);
  if (!rx) {
    problems_.push_back("UDP discovery: " + rx.error());
    return false;
  }
  udp_rx_ = std::move(*rx);
  auto tx = udp_socket(in_addr{htonl(INADDR_ANY)}, 0, false);
  if (!tx) {
    problems_.push_back("UDP discovery: " + tx.error());
    return false;
  }
  const int one = 1;
  setsockopt(tx->get(), SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  udp_tx_ = std::move(*tx);
  return true;
}

bool Session::open_ssdp() {
  auto search = udp_socket(in_addr{htonl(INADDR_ANY)}, 0, false);
  if (!search) {
    problems_.push_back("SSDP: " + search.error());
    return false;
  }
  const int ttl = 2;
  setsockopt(search->get(), IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
  ssdp_search_ = std::move(*search);
  // NOTIFY listener: optional, another SSDP stack may hold 1900 without SO_REUSEPORT.
  auto notify = udp_socket(in_addr{htonl(INADDR_ANY)}, kSsdpPort, true);
  if (!notify) {
    logger()->debug("SSDP NOTIFY not received: {}", notify.error());
    return true;
  }
  for (const auto& i : ifaces_) {
    if (!i.multicast) continue;
    ip_mreq mreq{};
    inet_pton(AF_INET, kSsdpGroup, &mreq.imr_multiaddr);
    mreq.imr_interface = i.addr;
    if (setsockopt(notify->get(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0)
      logger()->debug("{}", errno_text("cannot join " + std::string(kSsdpGroup) + " on " + i.name));
  }
  ssdp_notify_ = std::move(*notify);
  return true;
}

void Session::send_probes() {
  const std::uint8_t probe = 0x00;
  for (const auto& i : ifaces_) {
    if (!i.broadcast) continue;
    const sockaddr_in to = sockaddr_of(*i.broadcast, opts_.probe_port);
    if (::sendto(udp_tx_.get(), &probe, 1, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) <
        0)
      logger()->warn("{}", errno_text("UDP probe to " + ntoa(*i.broadcast) + " on " + i.name));
    else
      logger()->debug("UDP probe sent to {}:{} on {}", ntoa(*i.broadcast), opts_.probe_port,
                      i.name);
  }
}

void Session::send_msearch() {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(opts_.timeout).count();
  const std::string msg = ssdp_msearch(static_cast<int>(secs) - 1);
  in_addr group{};
  inet_pton(AF_INET, kSsdpGroup, &group);
  const sockaddr_in to = sockaddr_of(group, kSsdpPort);
  for (const auto& i : ifaces_) {
    if (!i.multicast) continue;
    setsockopt(ssdp_search_.get(), IPPROTO_IP, IP_MULTICAST_IF, &i.addr, sizeof i.addr);
    if (::sendto(ssdp_search_.get(), msg.data(), msg.size(), 0,
                 reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0)
      logger()->warn("{}", errno_text("SSDP M-SEARCH on " + i.name));
    else
      logger()->debug("SSDP M-SEARCH sent on {}", i.name);
  }
}

void Session::drain(int fd, bool ssdp) {
  static thread_local std::array<char, 65536> buf;
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n =
        ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;  // EAGAIN: drained
    const std::string src = ntoa(from.sin_addr);
    const std::string_view data(buf.data(), static_cast<std::size_t>(n));
    if (ssdp)
      on_ssdp(data, src);
    else
      on_loxlive(data, src);
  }
}

void Session::on_loxlive(std::string_view data, const std::string& from) {
  auto ms = parse_loxlive(data);
  if (!ms) {
    logger()->debug("ignoring UDP {} bytes from {}: {}", data.size(), from, ms.error().message);
    return;
  }
  ms->source = from;
  logger()->debug("LoxLIVE from {}: {} {} '{}'", from, ms->serial, ms->address, ms->name);
  merge_into(found_, *ms);
}

void Session::on_ssdp(std::string_view data, const std::string& from) {
  auto m = parse_ssdp(data);
  if (!m) {
    logger()->debug("ignoring SSDP {} bytes from {}: {}", data.size(), from, m.error().message);
    return;
  }
  if (!m->is_loxone_miniserver() || !locations_.insert(m->location).second) return;
  logger()->debug("SSDP from {}: SERVER '{}' LOCATION {}", from, m->server, m->location);
  const Miniserver ms = from_location(*m, from);
  if (!ms.address.empty()) merge_into(found_, ms);
}

// upnp.xml of one SSDP answer, fetched only from the host that answered.
Miniserver Session::from_location(const SsdpMessage& m, const std::string& from) {
  Miniserver ms;
  const auto url = parse_http_url(m.location);
  if (!url || url->https || url->host != from) {
    logger()->warn(
        "SSDP from {}: not fetching LOCATION '{}' (must be http:// on the sender's address)", from,
        m.location);
    return ms;
  }
  ms.via_ssdp = true;
  ms.source = from;
  ms.address = url->host;
  ms.port = url->port;
  ms.location = m.location;
  ms.name = ssdp_server_name(m.server);
  if (!opts_.describe) return ms;
  auto dev = opts_.describe(m.location, opts_.http_timeout, stop_);
  if (!dev) {
    logger()->warn("{}", dev.error());
    return ms;
  }
  if (is_serial(dev->serial_number)) ms.serial = canonical_serial(dev->serial_number);
  if (!dev->hidden_name.empty()) ms.name = dev->hidden_name;
  ms.friendly_name = dev->friendly_name;
  ms.model_number = dev->model_number;
  ms.udn = dev->udn;
  ms.presentation_url = dev->presentation_url;
  return ms;
}

DiscoveryResult Session::run() {
  const bool udp = opts_.udp && open_udp();
  const bool ssdp = opts_.ssdp && open_ssdp();
  for (const auto& p : problems_) logger()->warn("{}", p);
  if (!udp && !ssdp) {
    std::string all = problems_.empty() ? "no discovery method enabled" : problems_.front();
    for (std::size_t i = 1; i < problems_.size(); ++i) all += "; " + problems_[i];
    return unexpected(all);
  }
  const auto start = Clock::now();
  const auto deadline = start + opts_.timeout;
  int sends = 0;  // probes go out at 0 s and, UDP being lossy, once more after 1 s
  while (!stop_.stop_requested()) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    if (sends < 2 && now >= start + std::chrono::seconds(sends)) {
      if (udp) send_probes();
      if (ssdp) send_msearch();
      ++sends;
    }
    std::array<pollfd, 3> fds{{{udp_rx_.get(), POLLIN, 0},
                               {ssdp_search_.get(), POLLIN, 0},
                               {ssdp_notify_.get(), POLLIN, 0}}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::min<long>(left.count() + 1, 100))) <
            0 &&
        errno != EINTR)
      return unexpected(errno_text("poll"));
    if (fds[0].revents & POLLIN) drain(udp_rx_.get(), false);
    if (fds[1].revents & POLLIN) drain(ssdp_search_.get(), true);
    if (fds[2].revents & POLLIN) drain(ssdp_notify_.get(), true);
  }
  sort_miniservers(found_);
  return found_;
}

}  // namespace

DiscoveryResult discover(const DiscoveryOptions& options, std::stop_token stop) {
  auto ifaces = list_interfaces(options.interface);
  if (!ifaces) return unexpected(ifaces.error());
  for (const auto& i : *ifaces)
    logger()->debug("interface {} {}{}{}", i.name, ntoa(i.addr),
                    i.broadcast ? " broadcast " + ntoa(*i.broadcast) : std::string(),
                    i.multicast ? " multicast" : "");
  Session s(options, std::move(stop), std::move(*ifaces));
  return s.run();
}

DiscoveryService::DiscoveryService(DiscoveryOptions options, std::chrono::seconds interval,
                                   Callback on_result)
    : options_(std::move(options)), interval_(interval), on_result_(std::move(on_result)) {}

DiscoveryService::~DiscoveryService() {
  stop();
}

void DiscoveryService::start() {
  if (worker_.joinable()) return;
  worker_ = std::jthread([this](std::stop_token st) { run(st); });
}

void DiscoveryService::trigger() {
  {
    std::lock_guard lock(mu_);
    triggered_ = true;
  }
  cv_.notify_all();
}

void DiscoveryService::stop() {
  if (!worker_.joinable()) return;
  worker_.request_stop();
  cv_.notify_all();
  worker_.join();
}

void DiscoveryService::run(std::stop_token st) {
  while (!st.stop_requested()) {
    DiscoveryResult r = discover(options_, st);
    if (st.stop_requested()) break;
    on_result_(std::move(r));
    std::unique_lock lock(mu_);
    auto woken = [this] { return triggered_; };
    if (interval_.count() > 0)
      cv_.wait_for(lock, st, interval_, woken);
    else
      cv_.wait(lock, st, woken);
    triggered_ = false;
  }
}

}  // namespace loxcan::lan
