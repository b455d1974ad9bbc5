#pragma once
// Finding Miniservers on the LAN: the UDP probe (0x00 to broadcast UDP 7070, LoxLIVE answers on
// UDP 7071) and SSDP (M-SEARCH upnp:rootdevice + NOTIFY, then upnp.xml over HTTP), merged by
// serial. Logs to the spdlog logger "disc" (created on first use if the caller did not).
//
// Blocking one-shot:   auto r = discover(opts);            // ~opts.timeout
//                      if (r) for (auto& ms : *r) ...; else puts(r.error().c_str());
//
// For the daemon (single-threaded event loop, never blocked): DiscoveryService runs discover()
// on its own worker thread at start and then every `interval`, and hands each result to a
// callback ON THAT WORKER THREAD. The callback must only post the result into the loop, e.g.
//   DiscoveryService svc(opts, std::chrono::minutes(15), [&loop](DiscoveryResult r) {
//     loop.post([&, r = std::move(r)] {
//       if (r) mqtt.publish(base + "/bridge/miniservers", miniservers_json(*r), /*retain=*/true);
//     });
//   });
//   svc.start();   ...   svc.stop();   // or let the destructor stop it
// stop() cancels a running discovery within ~100 ms (an upnp.xml fetch is aborted) and joins.
// A result with an error (no method could start, e.g. UDP 7071 in use and SSDP disabled) should
// not replace a previously published list; an empty list is a valid result ("none found").

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "gateway/lan/expected.hpp"
#include "gateway/lan/miniserver_info.hpp"
#include "gateway/lan/upnp_xml.hpp"

namespace loxcan::lan {

struct DiscoveryOptions {
  std::chrono::milliseconds timeout{3000};  ///< how long to listen for answers
  bool udp = true;                          ///< UDP probe 7070 -> 7071
  bool ssdp = true;                         ///< SSDP M-SEARCH/NOTIFY + upnp.xml
  /// Limit to one local interface, given by name ("eth0") or by its IPv4 address; "" = every
  /// interface that is up, has IPv4 and is not loopback. No match is an error.
  std::string interface;
  std::chrono::milliseconds http_timeout{2000};  ///< per upnp.xml fetch
  /// Reads the description (upnp.xml) an SSDP answer points to; see fetch_upnp_description().
  /// Empty: SSDP answers are listed from their headers alone (address, port, LOCATION, the name
  /// in SERVER). `loxcan discover` sets it; the daemon does not, so that it never loads an
  /// HTTP/TLS stack and an XML parser (about 2 MB resident) for a name that Miniservers also
  /// send in their UDP answer, which wins the merge anyway.
  std::function<Expected<UpnpDevice, std::string>(
      const std::string& url, std::chrono::milliseconds timeout, std::stop_token stop)>
      describe;
  std::uint16_t probe_port = 7070;
  std::uint16_t reply_port = 7071;
};

/// The merged, sorted list; an error only if no discovery method could be started at all
/// (problems with one method or with single replies are logged and skipped).
using DiscoveryResult = Expected<std::vector<Miniserver>, std::string>;

/// Runs both methods for options.timeout and returns what answered. Replies are only trusted as
/// far as they parse; upnp.xml is fetched only from an http LOCATION whose host is the IPv4
/// address the SSDP packet came from (no proxy, no redirects, size-limited).
DiscoveryResult discover(const DiscoveryOptions& options, std::stop_token stop = {});

/// GET `url` (http only, no proxy, no redirects, 64 KiB at most, within `timeout`) and parse it
/// as upnp.xml. Errors name the URL: "cannot read http://…/upnp.xml: HTTP 404".
Expected<UpnpDevice, std::string> fetch_upnp_description(const std::string& url,
                                                         std::chrono::milliseconds timeout,
                                                         std::stop_token stop);

class DiscoveryService {
 public:
  using Callback = std::function<void(DiscoveryResult)>;

  /// interval 0: run once at start() and then only on trigger().
  DiscoveryService(DiscoveryOptions options, std::chrono::seconds interval, Callback on_result);
  ~DiscoveryService();
  DiscoveryService(const DiscoveryService&) = delete;
  DiscoveryService& operator=(const DiscoveryService&) = delete;

  /// Starts the worker; the first discovery begins immediately. No-op if already running.
  void start();
  /// Asks for a run now (after the current one, if any). Thread-safe.
  void trigger();
  /// Cancels and joins; no callback is made after stop() returns. Idempotent.
  void stop();

 private:
  void run(std::stop_token st);

  DiscoveryOptions options_;
  std::chrono::seconds interval_;
  Callback on_result_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool triggered_ = false;
  std::jthread worker_;
};

}  // namespace loxcan::lan
