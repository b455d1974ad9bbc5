#include "gateway/web/web_view.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "canproto/candump.hpp"
#include "canproto/message.hpp"

namespace loxcan::web {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

std::shared_ptr<spdlog::logger> log() {
  auto l = spdlog::get("gw");
  return l ? l : spdlog::default_logger();
}

// "host:port" / "[v6]:port" -> bound, listening, non-blocking socket; or an error message.
int open_listener(const std::string& listen, std::string& error) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    error = "web.listen '" + listen + "': expected host:port";
    return -1;
  }
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
      rc != 0) {
    error = "web.listen '" + listen + "': " + gai_strerror(rc);
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 16) != 0) {
    error = "web.listen '" + listen + "': " + std::strerror(errno);
    if (fd >= 0) close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

std::uint16_t bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

// The decoder's fields as "key=value" text (the `V` of the message bodies' visit()).
struct TextFields {
  std::string& o;
  void key(std::string_view n) { o += ' ', o += n, o += '='; }
  void num(std::string_view n, std::uint64_t v) { key(n), o += std::to_string(v); }
  void sint(std::string_view n, std::int64_t v) { key(n), o += std::to_string(v); }
  void real(std::string_view n, double v) {
    char b[32];
    auto [p, ec] = std::to_chars(b, b + sizeof b, v);
    key(n), o.append(b, p);
  }
  void flag(std::string_view n, bool v) { key(n), o += v ? "yes" : "no"; }
  void hex(std::string_view n, std::uint32_t v, int digits) {
    char b[16];
    std::snprintf(b, sizeof b, "%0*X", digits, v);
    key(n), o += b;
  }
  void text(std::string_view n, std::string_view v) { key(n), o += json(std::string(v)).dump(); }
  void bytes(std::string_view n, std::span<const std::uint8_t> b) {
    key(n);
    char h[3];
    for (auto x : b) std::snprintf(h, sizeof h, "%02X", x), o += h;
  }
};

std::string describe_message(const canproto::Message& m) {
  std::string o;
  TextFields v{o};
  if (const auto* n = std::get_if<canproto::NatMessage>(&m)) {
    const std::uint8_t cmd = canproto::nat_command(n->body);
    o = std::string("nat ") + canproto::to_string(n->addr.dir) + " " +
        canproto::nat_command_name(cmd);
    v.num("nat", n->addr.nat);
    v.num("device_nat", n->addr.device_nat);
    std::visit([&](const auto& b) { b.visit(v); }, n->body);
  } else if (const auto* l = std::get_if<canproto::LegacyMessage>(&m)) {
    const std::uint8_t cmd = canproto::legacy_command(l->body);
    o = std::string("legacy ") + canproto::to_string(l->addr.dir) + " " +
        canproto::legacy_command_name(cmd, l->addr.type);
    v.hex("serial", l->addr.serial(), 8);
    std::visit([&](const auto& b) { b.visit(v); }, l->body);
  } else if (std::holds_alternative<canproto::UnknownMessage>(m)) {
    o = "unknown";
  } else {
    o = "malformed";
  }
  return o;
}

}  // namespace

std::string describe(const canproto::Message& m) {
  return describe_message(m);
}

// ---- libmicrohttpd glue -----------------------------------------------------------------------

struct WebView::Pending {  ///< a request whose body is still arriving
  std::string body;
  bool too_large = false;
};

struct WebView::Client {  ///< one /api/stream connection
  WebView* view = nullptr;
  MHD_Connection* conn = nullptr;
  std::string queue;
  std::size_t sent = 0;  ///< bytes of `queue` already handed to MHD
  bool frames = false;
  bool suspended = false;
  bool closing = false;
};

struct Callbacks {
  static MHD_Result collect(void* cls, MHD_ValueKind, const char* key, const char* value) {
    auto* m = static_cast<std::map<std::string, std::string>*>(cls);
    if (m->size() < 32) (*m)[key ? key : ""] = value ? value : "";
    return MHD_YES;
  }

  static MHD_Result access(void* cls, MHD_Connection* c, const char* url, const char* method,
                           const char*, const char* upload, size_t* upload_size, void** con_cls) {
    auto* self = static_cast<WebView*>(cls);
    auto* p = static_cast<WebView::Pending*>(*con_cls);
    const std::size_t max = 256 * 1024;
    if (p == nullptr) {
      p = new WebView::Pending;
      *con_cls = p;
      const char* cl =
          MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
      if (cl != nullptr && std::strtoull(cl, nullptr, 10) > max) p->too_large = true;
      return MHD_YES;
    }
    if (*upload_size != 0) {
      if (!p->too_large && p->body.size() + *upload_size <= max) {
        p->body.append(upload, *upload_size);
      } else {
        p->too_large = true;
        p->body.clear();
      }
      *upload_size = 0;
      return MHD_YES;
    }
    ++self->counters_.requests;
    Request r;
    r.method = method;
    r.path = url;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, &Callbacks::collect, &r.query);
    if (const char* v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE))
      r.cookie = v;
    if (const char* v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token")) r.csrf = v;
    r.body = std::move(p->body);
    r.body_too_large = p->too_large;
    Response resp = self->api_.handle(r);
    if (resp.stream) return stream(self, c, r);
    return send(c, resp);
  }

  static MHD_Result send(MHD_Connection* c, const Response& resp) {
    MHD_Response* m = MHD_create_response_from_buffer(
        resp.body.size(), const_cast<char*>(resp.body.data()), MHD_RESPMEM_MUST_COPY);
    if (m == nullptr) return MHD_NO;
    MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, resp.content_type.c_str());
    MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(m, "X-Frame-Options", "DENY");
    for (const auto& [k, v] : resp.headers) MHD_add_response_header(m, k.c_str(), v.c_str());
    const MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(resp.status), m);
    MHD_destroy_response(m);
    return ok;
  }

  static MHD_Result stream(WebView* self, MHD_Connection* c, const Request& r) {
    if (self->clients_.size() >= WebView::kMaxStreamClients) {
      return send(c, error_response(503, r,
                                    "too many stream clients (at most " +
                                        std::to_string(WebView::kMaxStreamClients) + ")"));
    }
    auto client = std::make_unique<WebView::Client>();
    client->view = self;
    client->conn = c;
    auto f = r.query.find("frames");
    client->frames = f != r.query.end() && f->second != "0";
    client->queue = "retry: 1000\n: loxcan live stream\n\n";
    MHD_Response* m = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16 * 1024, &Callbacks::read, client.get(), &Callbacks::release);
    if (m == nullptr) return MHD_NO;
    MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);  // the stream may be quiet
    self->frame_clients_ += client->frames;
    self->clients_.push_back(std::move(client));
    self->counters_.stream_clients = self->clients_.size();
    if (self->keepalive_timer_ == 0) {
      self->keepalive_timer_ = self->loop_.add_periodic(15s, [self] { self->keepalive(); });
    }
    const MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, m);
    MHD_destroy_response(m);
    return ok;
  }

  // Hands queued bytes to MHD; with nothing queued the connection sleeps until broadcast() wakes
  // it.
  static ssize_t read(void* cls, uint64_t, char* buf, size_t max) {
    auto* c = static_cast<WebView::Client*>(cls);
    if (c->closing) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (c->sent < c->queue.size()) {
      const std::size_t n = std::min(max, c->queue.size() - c->sent);
      std::memcpy(buf, c->queue.data() + c->sent, n);
      c->sent += n;
      if (c->sent == c->queue.size()) c->queue.clear(), c->sent = 0;
      return static_cast<ssize_t>(n);
    }
    MHD_suspend_connection(c->conn);
    c->suspended = true;
    return 0;
  }

  static void release(void* cls) {
    auto* c = static_cast<WebView::Client*>(cls);
    c->view->remove_client(c);
  }

  static void completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
    delete static_cast<WebView::Pending*>(*con_cls);
    *con_cls = nullptr;
  }

  static void log_mhd(void*, const char* fmt, va_list ap) {
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    log()->debug("web: {}", s);
  }
};

WebView::WebView(gateway::EventLoop& loop, WebOptions options, WebHost& host)
    : loop_(loop),
      options_(std::move(options)),
      memory_(options_.history_min),
      api_(ApiOptions{options_.password}, host, memory_) {}

WebView::~WebView() {
  stop();
}

std::string WebView::start() {
  std::string error;
  const int fd = open_listener(options_.listen, error);
  if (fd < 0) return error;
  port_ = bound_port(fd);
  daemon_ = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
                             nullptr, nullptr, &Callbacks::access, this, MHD_OPTION_LISTEN_SOCKET,
                             fd, MHD_OPTION_NOTIFY_COMPLETED, &Callbacks::completed, this,
                             MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 32u,
                             MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(32 * 1024),
                             MHD_OPTION_EXTERNAL_LOGGER, &Callbacks::log_mhd, this, MHD_OPTION_END);
  if (daemon_ == nullptr) {
    close(fd);
    return "web.listen '" + options_.listen + "': the HTTP server did not start";
  }
  epoll_fd_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
  if (auto ec = loop_.watch(epoll_fd_, gateway::EventLoop::kReadable,
                            [this](std::uint32_t) { run_mhd(); })) {
    stop();
    return "web: cannot watch the server's epoll fd: " + ec.message();
  }
  return {};
}

void WebView::stop() {
  if (daemon_ == nullptr) return;
  for (auto& c : clients_) {
    c->closing = true;
    if (c->suspended) MHD_resume_connection(c->conn), c->suspended = false;
  }
  MHD_run(daemon_);  // lets the resumed streams end
  loop_.unwatch(epoll_fd_);
  if (timer_ != 0) loop_.cancel(timer_), timer_ = 0;
  if (keepalive_timer_ != 0) loop_.cancel(keepalive_timer_), keepalive_timer_ = 0;
  if (flush_timer_ != 0) loop_.cancel(flush_timer_), flush_timer_ = 0;
  const int listen_fd = MHD_quiesce_daemon(daemon_);
  MHD_stop_daemon(daemon_);  // closes every connection; release() empties clients_
  if (listen_fd >= 0) close(listen_fd);
  daemon_ = nullptr;
  clients_.clear();
  frame_clients_ = 0;
}

void WebView::run_mhd() {
  if (daemon_ == nullptr) return;
  MHD_run(daemon_);
  rearm_timer();
}

// MHD's own deadlines (connection timeouts, resumed connections): one loop timer at the earliest.
// None at all while nobody is connected.
void WebView::rearm_timer() {
  if (timer_ != 0) loop_.cancel(timer_), timer_ = 0;
  MHD_UNSIGNED_LONG_LONG ms = 0;
  if (MHD_get_timeout(daemon_, &ms) != MHD_YES) return;
  timer_ = loop_.add_timer(std::chrono::milliseconds(ms), [this] {
    timer_ = 0;
    run_mhd();
  });
}

void WebView::on_event(const devices::Event& e) {
  json j = memory_.record(e);
  if (clients_.empty()) return;
  const std::string type = j.value("type", "event");
  broadcast(type, j.dump(-1, ' ', false, json::error_handler_t::replace), false);
}

void WebView::on_rejection(const std::string& topic, const std::string& payload,
                           const std::string& error, const std::string& detail) {
  json j = {
      {"type", "rejected"},
      {"topic", topic},
      {"payload", payload},
      {"error", error},
      {"detail", detail},
      {"ts",
       std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()}};
  memory_.record_event(0, j);
  if (!clients_.empty())
    broadcast("rejected", j.dump(-1, ' ', false, json::error_handler_t::replace), false);
}

bool WebView::frame_budget() {
  const auto now = gateway::EventLoop::now();
  if (now - frame_second_ >= std::chrono::seconds(1)) {
    frame_second_ = now;
    frames_this_second_ = 0;
  }
  if (frames_this_second_ >= kMaxStreamFramesPerSecond) {
    ++counters_.frames_skipped;
    return false;
  }
  ++frames_this_second_;
  return true;
}

// Decoded as a Link bus frame, alone (fragments are shown as fragments): the Traffic page's view.
void WebView::stream_frame(const canproto::Frame& frame, std::int64_t ts_ns) {
  json j = {{"type", "frame"},
            {"iface", std::string(frame.iface.view())},
            {"ts", static_cast<double>(ts_ns) / 1e9},
            {"raw", canproto::format_compact(frame)},
            {"text", describe(canproto::decode_frame(frame, canproto::Bus::link))}};
  broadcast("frame", j.dump(-1, ' ', false, json::error_handler_t::replace), true);
}

void WebView::broadcast(std::string_view event, const std::string& data, bool frames_only) {
  for (auto& c : clients_) {
    if (c->closing || (frames_only && !c->frames)) continue;
    const std::size_t pending = c->queue.size() - c->sent;
    if (pending + data.size() + event.size() + 16 > kClientQueueBytes) {
      c->closing = true;  // a browser that does not keep up: drop it, never wait for it
      ++counters_.clients_dropped;
      log()->info("web: a live-stream client fell {} bytes behind: disconnected", pending);
    } else {
      c->queue.append("event: ").append(event).append("\ndata: ").append(data).append("\n\n");
      ++counters_.stream_messages;
    }
  }
  schedule_flush();
}

// Messages are handed to the clients at most every kFlushDelay: at bus rate (up to ~3000 frames/s
// on the Traffic page) one write per client and flush instead of one per frame.
void WebView::schedule_flush() {
  if (flush_timer_ != 0) return;
  flush_timer_ = loop_.add_timer(kFlushDelay, [this] {
    flush_timer_ = 0;
    for (auto& c : clients_) resume(*c);
  });
}

void WebView::resume(Client& c) {
  if (!c.suspended) return;
  c.suspended = false;
  MHD_resume_connection(c.conn);
  // MHD picks resumed connections up in its next MHD_run(): one in the next loop round.
  if (timer_ != 0) loop_.cancel(timer_);
  timer_ = loop_.add_timer(gateway::EventLoop::Duration::zero(), [this] {
    timer_ = 0;
    run_mhd();
  });
}

void WebView::keepalive() {
  for (auto& c : clients_) {
    if (c->closing) continue;
    c->queue.append(": ping\n\n");
  }
  schedule_flush();
}

void WebView::remove_client(Client* c) {
  auto it =
      std::find_if(clients_.begin(), clients_.end(), [c](const auto& p) { return p.get() == c; });
  if (it == clients_.end()) return;
  frame_clients_ -= (*it)->frames;
  clients_.erase(it);
  counters_.stream_clients = clients_.size();
  if (clients_.empty() && keepalive_timer_ != 0) {
    loop_.cancel(keepalive_timer_);
    keepalive_timer_ = 0;
  }
}

}  // namespace loxcan::web
