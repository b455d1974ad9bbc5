#include "gateway/lan/http.hpp"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace loxcan::lan {
namespace {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

Unexpected<HttpError> fail(HttpErrorKind kind, std::string msg) {
  return unexpected(HttpError{kind, std::move(msg)});
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Millis left(Clock::time_point deadline) {
  return std::max(Millis(1), std::chrono::duration_cast<Millis>(deadline - Clock::now()));
}

// --- proxy from the environment -------------------------------------------------------------

struct Proxy {
  std::string host;  ///< bare host
  int port = 1080;   ///< curl's default proxy port
  std::string user, password;
};

const char* first_env(std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (const char* v = std::getenv(n); v && *v) return v;
  return nullptr;
}

bool no_proxy_for(const std::string& host) {
  const char* list = first_env({"no_proxy", "NO_PROXY"});
  if (!list) return false;
  const std::string h = lower(host);
  std::string_view rest(list);
  while (!rest.empty()) {
    const std::size_t comma = std::min(rest.find(','), rest.size());
    std::string entry = lower(rest.substr(0, comma));
    rest.remove_prefix(std::min(comma + 1, rest.size()));
    entry.erase(std::remove_if(entry.begin(), entry.end(),
                               [](unsigned char c) { return std::isspace(c) != 0; }),
                entry.end());
    if (entry == "*") return true;
    entry = bare_host(entry);
    if (!entry.empty() && entry[0] == '.') entry.erase(0, 1);
    if (!entry.empty() && (h == entry || (h.size() > entry.size() && h.ends_with("." + entry))))
      return true;
  }
  return false;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "http://user:pw@proxy:3128" or "proxy:3128" -> Proxy; nullopt when none applies.
Expected<std::optional<Proxy>, HttpError> proxy_for(const HttpUrl& target) {
  const char* v =
      target.https ? first_env({"https_proxy", "HTTPS_PROXY"}) : first_env({"http_proxy"});
  if (!v) v = first_env({"all_proxy", "ALL_PROXY"});
  if (!v || no_proxy_for(bare_host(target.host))) return std::optional<Proxy>();
  std::string spec(v);
  if (spec.find("://") == std::string::npos) spec = "http://" + spec;
  Proxy p;
  const std::size_t start = spec.find("://") + 3;
  const std::size_t at = spec.find('@', start);
  if (at != std::string::npos && at < spec.find_first_of("/?#", start)) {
    const std::string_view cred = std::string_view(spec).substr(start, at - start);
    const std::size_t colon = std::min(cred.find(':'), cred.size());
    p.user = percent_decode(cred.substr(0, colon));
    p.password = percent_decode(cred.substr(std::min(colon + 1, cred.size())));
    spec.erase(start, at + 1 - start);
  }
  auto u = parse_http_url(spec);
  if (!u || u->https)
    return fail(HttpErrorKind::kBadUrl,
                "unusable proxy '" + spec + "' (" + (u ? "only http:// proxies" : u.error()) + ")");
  p.host = bare_host(u->host);
  if (u->explicit_port) p.port = u->port;
  return std::optional<Proxy>(std::move(p));
}

// --- name lookup bounded by the deadline ----------------------------------------------------

// getaddrinfo cannot be interrupted, so it runs on its own thread; on a timeout that thread is
// left to finish alone (it owns its state). Address literals need no thread.
Expected<std::vector<std::string>, HttpError> resolve(const std::string& host,
                                                      Clock::time_point deadline,
                                                      const std::stop_token& stop) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1)
    return std::vector<std::string>{host};
  struct Lookup {
    std::mutex mu;
    std::condition_variable_any cv;
    bool done = false;
    int rc = 0;
    std::vector<std::string> addrs;
  };
  auto l = std::make_shared<Lookup>();
  std::thread([l, host] {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
    std::vector<std::string> addrs;
    for (addrinfo* a = res; a; a = a->ai_next) {
      char text[INET6_ADDRSTRLEN] = "";
      const void* ip =
          a->ai_family == AF_INET6
              ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr)
              : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr);
      if (inet_ntop(a->ai_family, ip, text, sizeof text) &&
          std::find(addrs.begin(), addrs.end(), text) == addrs.end())
        addrs.emplace_back(text);
    }
    if (res) freeaddrinfo(res);
    std::lock_guard lock(l->mu);
    l->rc = rc;
    l->addrs = std::move(addrs);
    l->done = true;
    l->cv.notify_all();
  }).detach();
  std::unique_lock lock(l->mu);
  if (!l->cv.wait_until(lock, stop, deadline, [&] { return l->done; }))
    return stop.stop_requested()
               ? fail(HttpErrorKind::kCancelled, "cancelled")
               : fail(HttpErrorKind::kTimeout, "no address for " + host + " in time");
  if (l->rc != 0 || l->addrs.empty())
    return fail(HttpErrorKind::kUnreachable,
                "cannot resolve " + host + ": " + (l->rc ? gai_strerror(l->rc) : "no address"));
  return l->addrs;
}

// --- one attempt against one address ----------------------------------------------------------

// Ends the request from a second thread at the deadline or on a stop request: Client::stop()
// shuts the socket down, which is the thread-safe way cpp-httplib offers. A stop() before the
// socket exists is lost, so it is repeated until the request returns.
class Watchdog {
 public:
  Watchdog(httplib::ClientImpl& client, Clock::time_point deadline, std::stop_token stop)
      : thread_([this, &client, deadline, stop] { watch(client, deadline, stop); }) {}
  ~Watchdog() { disarm(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  /// Ends the watch; afterwards timed_out()/cancelled() are final.
  void disarm() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  bool timed_out() const { return timed_out_; }
  bool cancelled() const { return cancelled_; }

 private:
  void watch(httplib::ClientImpl& client, Clock::time_point deadline, std::stop_token stop) {
    std::unique_lock lock(mu_);
    if (cv_.wait_until(lock, stop, deadline, [this] { return done_; })) return;
    (stop.stop_requested() ? cancelled_ : timed_out_) = true;
    while (!done_) {
      lock.unlock();
      client.stop();
      lock.lock();
      cv_.wait_for(lock, Millis(20), [this] { return done_; });
    }
  }

  std::mutex mu_;
  std::condition_variable_any cv_;
  bool done_ = false;
  std::atomic<bool> timed_out_{false}, cancelled_{false};
  std::thread thread_;  // last: starts after the members it uses
};

struct Attempt {
  const HttpRequest& req;
  const HttpUrl& url;
  const std::optional<Proxy>& proxy;
  Clock::time_point deadline;
};

std::unique_ptr<httplib::ClientImpl> make_client(const Attempt& a, const std::string& address) {
  const std::string host = bare_host(a.url.host);
  std::unique_ptr<httplib::ClientImpl> c;
  if (a.url.https) {
    auto ssl = std::make_unique<httplib::SSLClient>(host, a.url.port);
    ssl->enable_server_certificate_verification(true);
    c = std::move(ssl);
  } else {
    c = std::make_unique<httplib::ClientImpl>(host, a.url.port);
  }
  c->set_follow_location(false);
  c->set_keep_alive(false);
  c->set_decompress(false);  // no Accept-Encoding: small replies, and less code on LAN input
  c->set_url_encode(false);  // the target is already valid (parse_http_url)
  // The watchdog ends the request; the library's own limits only back it up.
  const Millis rest = left(a.deadline);
  c->set_connection_timeout(rest);
  c->set_read_timeout(rest + Millis(1000));
  c->set_write_timeout(rest + Millis(1000));
  if (a.proxy) {
    c->set_proxy(address, a.proxy->port);
    if (!a.proxy->user.empty()) c->set_proxy_basic_auth(a.proxy->user, a.proxy->password);
  } else {
    c->set_hostname_addr_map({{host, address}});
  }
  return c;
}

HttpError to_error(httplib::Error e, const httplib::ClientImpl& c, const Attempt& a,
                   const std::string& address) {
  const std::string where = address + ":" + std::to_string(a.proxy ? a.proxy->port : a.url.port) +
                            (a.proxy ? " (proxy)" : "");
  switch (e) {
    case httplib::Error::Connection:
      return {HttpErrorKind::kUnreachable, "connection to " + where + " refused or unreachable"};
    case httplib::Error::ConnectionTimeout:
      return {HttpErrorKind::kTimeout, "no connection to " + where + " within " +
                                           std::to_string(a.req.timeout.count()) + " ms"};
    case httplib::Error::SSLServerVerification: {
      const long v = static_cast<const httplib::SSLClient&>(c).get_openssl_verify_result();
      return {HttpErrorKind::kTls,
              "TLS certificate of " + a.url.host + " not accepted: " +
                  (v != X509_V_OK ? X509_verify_cert_error_string(v) : "name does not match")};
    }
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
      return {HttpErrorKind::kTls, "TLS handshake with " + where + " failed"};
    case httplib::Error::Read: return {HttpErrorKind::kOther, "no valid HTTP reply from " + where};
    default:
      return {HttpErrorKind::kOther, "request to " + where + " failed: " + httplib::to_string(e)};
  }
}

Expected<HttpResponse, HttpError> get_once(const Attempt& a, const std::string& address) {
  auto client = make_client(a, address);
  bool too_large = false;
  std::string body;
  const httplib::Headers headers = {{"User-Agent", "loxcan"}, {"Accept", "*/*"}};
  Watchdog dog(*client, a.deadline, a.req.stop);
  auto res = client->Get(
      a.url.target, headers,
      [&](const httplib::Response& r) {
        too_large = r.get_header_value<std::uint64_t>("Content-Length") > a.req.max_body;
        return !too_large;
      },
      [&](const char* data, std::size_t n) {
        too_large = body.size() + n > a.req.max_body;
        if (!too_large) body.append(data, n);
        return !too_large;
      });
  dog.disarm();
  if (res) return HttpResponse{res->status, res->get_header_value("Location"), std::move(body)};
  if (too_large)
    return fail(HttpErrorKind::kTooLarge,
                "reply longer than " + std::to_string(a.req.max_body) + " bytes");
  if (dog.cancelled()) return fail(HttpErrorKind::kCancelled, "cancelled");
  if (dog.timed_out())
    return fail(HttpErrorKind::kTimeout,
                "no complete reply within " + std::to_string(a.req.timeout.count()) + " ms");
  return unexpected(to_error(res.error(), *client, a, address));
}

// Blocks SIGPIPE in this thread while alive and swallows one raised meanwhile (send() on a
// socket the peer closed); thread-safe, unlike ignoring the signal process-wide.
class NoSigpipe {
 public:
  NoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~NoSigpipe() {
    if (!sigismember(&old_, SIGPIPE)) {
      const timespec zero{};
      while (sigtimedwait(&pipe_, nullptr, &zero) == SIGPIPE) {
      }
      pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;

 private:
  sigset_t pipe_{}, old_{};
};

}  // namespace

Expected<HttpResponse, HttpError> http_get(const HttpRequest& req) {
  const auto deadline = Clock::now() + req.timeout;
  if (req.stop.stop_requested()) return fail(HttpErrorKind::kCancelled, "cancelled");
  auto url = parse_http_url(req.url);
  if (!url) return fail(HttpErrorKind::kBadUrl, "unusable URL: " + url.error());
  auto proxy = req.use_proxy ? proxy_for(*url)
                             : Expected<std::optional<Proxy>, HttpError>(std::optional<Proxy>());
  if (!proxy) return unexpected(proxy.error());
  auto addrs = resolve(*proxy ? (*proxy)->host : bare_host(url->host), deadline, req.stop);
  if (!addrs) return unexpected(addrs.error());
  NoSigpipe no_sigpipe;
  const Attempt attempt{req, *url, *proxy, deadline};
  for (std::size_t i = 0;; ++i) {
    auto r = get_once(attempt, (*addrs)[i]);
    // The next address of a name only when this one could not be connected to at all.
    if (r || r.error().kind != HttpErrorKind::kUnreachable || i + 1 == addrs->size()) return r;
  }
}

}  // namespace loxcan::lan
