#pragma once
// HttpServer: the web view's small HTTP/1.1 server, run by the daemon's EventLoop (no thread).
//
// Why our own (and not libmicrohttpd, which the web view used first): Debian's libmicrohttpd12
// links the GnuTLS chain (gnutls, p11-kit, nettle, hogweed, gmp, tasn1, unistring, idn2, ffi):
// 29 libraries instead of 20 and about 2.3 MiB more resident memory in loxcan-gateway whether
// the view is on or off, more than the view's whole budget of 1.5 MiB (README, the web view). Its
// external-epoll mode also needed an extra epoll fd, MHD_run() rounds, a zero-delay timer per
// resumed stream and suspend/resume bookkeeping to fit our loop. The other candidates: cpp-httplib
// is blocking with a thread per connection; Debian's http-parser is unmaintained upstream and
// llhttp is not in bookworm. What the view needs is small: GET/POST with Content-Length bodies,
// keep-alive, one long-lived Server-Sent Events response, strict limits. The parsing is
// HttpRequestParser (pure, fuzzed); this file is only the socket side.
//
// Contract (all on the loop thread):
//   - start(listen_fd) watches a bound, listening, non-blocking socket (open_listener()); with
//     nobody connected that is the only thing the server watches: no timer, no wake-up.
//   - Each connection: a read buffer, the parser, a write buffer; EPOLLOUT is requested only while
//     the write buffer has bytes. Requests are answered in order (pipelining), with
//     Content-Length, keep-alive as the client asks; the next request of a connection is parsed
//     only once the previous answer left the write buffer. A malformed request is answered with
//     the error handler's response and the connection is closed after a lingering half-close
//     (so that the client sees the answer even while it still sends its body).
//   - The handler may answer with `stream = true`: the connection becomes a stream (headers with
//     Connection: close, no Content-Length, then the body); the owner writes more with
//     send(id, bytes) and ends it with close(id). stream_pending(id) tells how much has not
//     reached the kernel yet: the owner bounds its queue with it.
//   - Idle connections (no complete request for Options::idle_timeout) are closed; a single
//     periodic timer checks that, armed only while non-stream connections exist.
//   - At most Options::max_connections connections; more are accepted and closed at once.
//   - on_stream_closed(id) is called when a stream ends by the peer or an error; never from
//     inside send() or close() (those return/act synchronously: the owner knows).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/loop/event_loop.hpp"
#include "gateway/web/http_request.hpp"

namespace loxcan::web {

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool stream = false;  ///< keep the connection open as an event stream (see above)
};

class HttpServer {
 public:
  using ConnectionId = std::uint64_t;
  using Handler = std::function<HttpResponse(ConnectionId, const HttpRequest&)>;
  /// status, method, path as far as known, message -> the error answer.
  using ErrorHandler =
      std::function<HttpResponse(int, const std::string&, const std::string&, const std::string&)>;
  struct Options {
    std::size_t max_connections = 32;
    std::chrono::seconds idle_timeout{30};
    HttpRequestParser::Limits limits{};
    int send_buffer_bytes = 0;  ///< SO_SNDBUF of accepted sockets; 0: the kernel's default
  };

  HttpServer(gateway::EventLoop& loop, Options options, Handler handler, ErrorHandler on_error,
             std::function<void(ConnectionId)> on_stream_closed);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Takes ownership of `listen_fd`; returns "" or an error.
  std::string start(int listen_fd);
  /// Closes every connection (no on_stream_closed) and the listening socket.
  void stop();
  bool running() const { return listen_fd_ >= 0; }

  /// Appends to a stream's write buffer and writes what the kernel takes now. False when the
  /// connection is gone (then it is closed, without on_stream_closed).
  bool send(ConnectionId id, std::string_view bytes);
  /// Bytes of a stream not yet taken by the kernel (0 for an unknown id).
  std::size_t stream_pending(ConnectionId id) const;
  /// Closes a connection at once (no on_stream_closed).
  void close(ConnectionId id);
  std::size_t connections() const { return conns_.size(); }

 private:
  struct Conn;
  void on_accept();
  void on_io(ConnectionId id, std::uint32_t events);
  bool read_input(Conn& c);
  void process(Conn& c);
  void respond(Conn& c, HttpResponse response, const HttpRequest* request);
  bool flush(Conn& c);
  void update_interest(Conn& c);
  void finish(Conn& c, bool notify);
  void sweep();
  void arm_sweep();

  gateway::EventLoop& loop_;
  Options options_;
  Handler handler_;
  ErrorHandler on_error_;
  std::function<void(ConnectionId)> on_stream_closed_;
  int listen_fd_ = -1;
  ConnectionId next_id_ = 1;
  std::unordered_map<ConnectionId, std::unique_ptr<Conn>> conns_;
  gateway::EventLoop::TimerId sweep_timer_ = 0;
};

/// "host:port" / "[v6]:port" -> a bound, listening, non-blocking socket; -1 and `error` naming
/// the address otherwise.
int open_listener(const std::string& listen, std::string& error);
/// The port a socket is bound to.
std::uint16_t bound_port(int fd);

}  // namespace loxcan::web
