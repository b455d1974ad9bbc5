#include "gateway/web/http_server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace loxcan::web {
namespace {

using Clock = gateway::EventLoop::Clock;
using namespace std::chrono_literals;

constexpr std::size_t kReadChunk = 16 * 1024;
/// Unparsed input kept per connection while its previous answer is still being written.
constexpr std::size_t kMaxBufferedInput = 64 * 1024;
/// After an error answer: how long the half-closed connection may still send before it is closed.
constexpr auto kLingerTime = 2s;
constexpr auto kSweepPeriod = 1s;

}  // namespace

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
    if (fd >= 0) ::close(fd);
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

struct HttpServer::Conn {
  enum class Mode { requests, stream, lingering };
  ConnectionId id = 0;
  int fd = -1;
  Mode mode = Mode::requests;
  std::string in;   ///< read, not yet given to the parser
  std::string out;  ///< to write; out_off bytes of it are written
  std::size_t out_off = 0;
  bool close_after_write = false;
  std::uint32_t interest = 0;
  HttpRequestParser parser;
  gateway::EventLoop::TimePoint last_active;

  std::size_t pending() const { return out.size() - out_off; }
};

HttpServer::HttpServer(gateway::EventLoop& loop, Options options, Handler handler,
                       ErrorHandler on_error, std::function<void(ConnectionId)> on_stream_closed)
    : loop_(loop),
      options_(options),
      handler_(std::move(handler)),
      on_error_(std::move(on_error)),
      on_stream_closed_(std::move(on_stream_closed)) {}

HttpServer::~HttpServer() {
  stop();
}

std::string HttpServer::start(int listen_fd) {
  stop();
  if (auto ec = loop_.watch(listen_fd, gateway::EventLoop::kReadable,
                            [this](std::uint32_t) { on_accept(); })) {
    ::close(listen_fd);
    return "web: cannot watch the listening socket: " + ec.message();
  }
  listen_fd_ = listen_fd;
  return {};
}

void HttpServer::stop() {
  if (listen_fd_ >= 0) {
    loop_.unwatch(listen_fd_);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  for (auto& [id, c] : conns_) {
    loop_.unwatch(c->fd);
    ::close(c->fd);
  }
  conns_.clear();
  if (sweep_timer_ != 0) loop_.cancel(sweep_timer_), sweep_timer_ = 0;
}

void HttpServer::on_accept() {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: all taken; EMFILE and the like: the next round tries again
    if (conns_.size() >= options_.max_connections) {
      ::close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // stream batches leave at once
    if (options_.send_buffer_bytes > 0) {
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &options_.send_buffer_bytes,
                 sizeof options_.send_buffer_bytes);
    }
    auto c = std::make_unique<Conn>();
    c->id = next_id_++;
    c->fd = fd;
    c->parser = HttpRequestParser(options_.limits);
    c->last_active = gateway::EventLoop::now();
    c->interest = gateway::EventLoop::kReadable;
    const ConnectionId id = c->id;
    if (loop_.watch(fd, c->interest, [this, id](std::uint32_t ev) { on_io(id, ev); })) {
      ::close(fd);
      continue;
    }
    conns_.emplace(id, std::move(c));
    arm_sweep();
  }
}

void HttpServer::on_io(ConnectionId id, std::uint32_t events) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (events & gateway::EventLoop::kError) return finish(c, true);
  if ((events & gateway::EventLoop::kWritable) && !flush(c)) return finish(c, true);
  if (events & (gateway::EventLoop::kReadable | gateway::EventLoop::kHangup)) {
    if (!read_input(c)) return finish(c, true);
  }
  process(c);
}

// False: the peer closed or the socket failed.
bool HttpServer::read_input(Conn& c) {
  char buf[kReadChunk];
  for (int rounds = 0; rounds < 4; ++rounds) {  // a bounded share of the loop per connection
    if (c.mode == Conn::Mode::requests && c.in.size() >= kMaxBufferedInput) return true;
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.last_active = gateway::EventLoop::now();
      // A stream's client has nothing more to say, a lingering one is ignored: both discarded.
      if (c.mode == Conn::Mode::requests) c.in.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
  return true;
}

// Parses and answers what is buffered, one request at a time, while nothing is left to write.
void HttpServer::process(Conn& c) {
  const ConnectionId id = c.id;
  while (c.mode == Conn::Mode::requests && c.pending() == 0 && !c.close_after_write) {
    const std::size_t used = c.parser.feed(c.in);
    c.in.erase(0, used);
    const auto state = c.parser.state();
    if (state == HttpRequestParser::State::incomplete) break;
    if (state == HttpRequestParser::State::error) {
      respond(c,
              on_error_(c.parser.error_status(), c.parser.method(), c.parser.path_hint(),
                        c.parser.error_message()),
              nullptr);
    } else {
      HttpRequest request = c.parser.take_request();
      c.parser.reset();
      respond(c, handler_(id, request), &request);
    }
    if (!flush(c)) return finish(c, true);
  }
  update_interest(c);
}

void HttpServer::respond(Conn& c, HttpResponse r, const HttpRequest* request) {
  const bool keep_alive = request != nullptr && request->keep_alive && !r.stream;
  std::string& o = c.out;
  o += "HTTP/1.1 " + std::to_string(r.status) + " ";
  o += reason_phrase(r.status);
  o += "\r\nContent-Type: " + r.content_type + "\r\n";
  for (const auto& [name, value] : r.headers) o += name + ": " + value + "\r\n";
  if (!r.stream) o += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  o += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (request == nullptr || !request->head_only) o += r.body;
  if (r.stream) {
    c.mode = Conn::Mode::stream;
    c.in.clear();
  } else if (!keep_alive) {
    c.close_after_write = true;
  }
}

// Writes what the kernel takes. False on a socket error. An answer that ended the connection
// (close_after_write) turns it into a lingering half-close once written.
bool HttpServer::flush(Conn& c) {
  while (c.pending() > 0) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.pending(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  if (c.pending() == 0) {
    c.out.clear();
    c.out_off = 0;
    if (c.close_after_write && c.mode == Conn::Mode::requests) {
      ::shutdown(c.fd, SHUT_WR);
      c.mode = Conn::Mode::lingering;
      c.last_active = gateway::EventLoop::now();
      c.in.clear();
      arm_sweep();
    }
  } else if (c.out_off > 64 * 1024 && c.out_off * 2 > c.out.size()) {
    c.out.erase(0, c.out_off);  // keep the buffer from growing with a slow reader
    c.out_off = 0;
  }
  return true;
}

// EPOLLOUT only while there is something to write; EPOLLIN unless the input buffer is full.
void HttpServer::update_interest(Conn& c) {
  std::uint32_t want = 0;
  if (c.mode != Conn::Mode::requests || c.in.size() < kMaxBufferedInput)
    want |= gateway::EventLoop::kReadable;
  if (c.pending() > 0) want |= gateway::EventLoop::kWritable;
  if (want == c.interest) return;
  c.interest = want;
  (void)loop_.modify(c.fd, want);
}

void HttpServer::finish(Conn& c, bool notify) {
  const ConnectionId id = c.id;
  const bool was_stream = c.mode == Conn::Mode::stream;
  loop_.unwatch(c.fd);
  ::close(c.fd);
  conns_.erase(id);  // c is gone from here on
  if (notify && was_stream && on_stream_closed_) on_stream_closed_(id);
}

bool HttpServer::send(ConnectionId id, std::string_view bytes) {
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second->mode != Conn::Mode::stream) return false;
  Conn& c = *it->second;
  c.out.append(bytes);
  if (!flush(c)) {
    finish(c, false);
    return false;
  }
  update_interest(c);
  return true;
}

std::size_t HttpServer::stream_pending(ConnectionId id) const {
  auto it = conns_.find(id);
  return it == conns_.end() ? 0 : it->second->pending();
}

void HttpServer::close(ConnectionId id) {
  auto it = conns_.find(id);
  if (it != conns_.end()) finish(*it->second, false);
}

// Idle and lingering connections time out here; streams never do (their owner pings and bounds
// them). The timer exists only while a non-stream connection does.
void HttpServer::sweep() {
  const auto now = gateway::EventLoop::now();
  std::vector<ConnectionId> expired;
  bool any = false;
  for (const auto& [id, c] : conns_) {
    if (c->mode == Conn::Mode::stream) continue;
    const auto limit =
        c->mode == Conn::Mode::lingering
            ? std::chrono::duration_cast<gateway::EventLoop::Duration>(kLingerTime)
            : std::chrono::duration_cast<gateway::EventLoop::Duration>(options_.idle_timeout);
    if (now - c->last_active >= limit) {
      expired.push_back(id);
    } else {
      any = true;
    }
  }
  for (ConnectionId id : expired) close(id);
  if (!any && sweep_timer_ != 0) loop_.cancel(sweep_timer_), sweep_timer_ = 0;
}

void HttpServer::arm_sweep() {
  if (sweep_timer_ == 0) sweep_timer_ = loop_.add_periodic(kSweepPeriod, [this] { sweep(); });
}

}  // namespace loxcan::web
