#pragma once
// WebView: loxcan-gateway's browser front end. Its HTTP server (http_server.hpp, our own small
// HTTP/1.1 server: why not a library is said there) runs INSIDE the daemon's event loop: every
// request is handled on the loop thread and reads the daemon's state directly (no locks, no
// copies between threads), and with nobody connected the web view adds no timer and no wake-up
// (only the listening socket is watched).
//
// Live stream (GET /api/stream[?frames=1]): Server-Sent Events. Every message is one line of JSON:
//   event: value    {"type":"value","serial","device","channel","value","unit","ts"}
//   event: command  {"type":"command",...}   event: state {"type":"state","from","to",...}
//   event: seen     {"type":"seen","model",...}   event: bus {"type":"bus","kind","detail","raw"}
//   event: rejected {"type":"rejected","topic","payload","error","detail"}
//   event: frame    {"type":"frame","iface","ts","raw","text"}   (ts: seconds, 6 decimals; only
//                   with ?frames=1; at most kMaxStreamFramesPerSecond, the rest is skipped and
//                   counted)
// Each client has a bounded queue (kClientQueueBytes). A client that does not keep up (a stuck
// or slow browser) is disconnected when its queue (what we hold for it, including what our server
// has not handed to the kernel yet) is full, and counted in clients_dropped; the
// bus path never waits for a browser. Messages are flushed to the clients every 50 ms (one write
// per batch, not per frame). A comment line every 15 s (only while clients are connected)
// lets a vanished client be noticed.
//
// Errors: start() returns a message (address in use, bad address) and the daemon keeps running
// without the web view.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "canproto/decoder.hpp"
#include "canproto/frame.hpp"
#include "canproto/message.hpp"
#include "devices/event_sink.hpp"
#include "devices/events.hpp"
#include "gateway/loop/event_loop.hpp"
#include "gateway/web/api.hpp"
#include "gateway/web/http_server.hpp"
#include "gateway/web/memory.hpp"

namespace loxcan::web {

struct WebOptions {
  std::string listen = "127.0.0.1:8088";  ///< host:port; port 0 picks a free one (tests)
  std::string password;                   ///< from web.password_file; empty: controls refused
  std::uint32_t history_min = 60;
  int send_buffer_bytes = 0;  ///< SO_SNDBUF of the connections; 0: the kernel's (tests set it)
};

struct WebCounters {
  std::uint64_t requests = 0;
  std::uint64_t stream_clients = 0;   ///< connected now
  std::uint64_t stream_messages = 0;  ///< queued to clients
  std::uint64_t clients_dropped = 0;  ///< disconnected because their queue was full
  std::uint64_t frames_skipped = 0;   ///< not streamed: over kMaxStreamFramesPerSecond
};

class WebView final : public devices::EventSink {
 public:
  static constexpr std::size_t kClientQueueBytes = 256 * 1024;
  static constexpr std::size_t kMaxStreamClients = 8;
  static constexpr std::chrono::milliseconds kFlushDelay{50};
  /// Frames per second sent to Traffic-page clients; more are skipped (counted in frames_skipped):
  /// nobody reads faster, and formatting every frame of a saturated bus would cost the bus path.
  static constexpr std::uint32_t kMaxStreamFramesPerSecond = 200;

  WebView(gateway::EventLoop& loop, WebOptions options, WebHost& host);
  ~WebView();
  WebView(const WebView&) = delete;
  WebView& operator=(const WebView&) = delete;

  /// Binds and starts serving; returns "" or an error message naming the address.
  std::string start();
  /// Closes every connection and the listening socket.
  void stop();
  /// SIGHUP with a changed web section. A new address: binds it first (on failure the old server
  /// keeps running and the error is returned), then closes every connection and serves there.
  /// A new password ends every session (the server itself goes on when the address is the same).
  /// The history and counters are kept; history_min keeps its value until the daemon restarts.
  std::string restart(WebOptions options);
  const WebOptions& options() const { return options_; }
  /// The bound port (after start()).
  std::uint16_t port() const { return port_; }
  /// Open HTTP connections (streams included).
  std::size_t connections() const { return server_ ? server_->connections() : 0; }

  // --- what the daemon reports (loop thread) ----------------------------------------------------
  // devices::EventSink (doc/ARCHITECTURE.md: the web view is one of the daemon's sinks)
  /// A translated event (values after the channel map, friendly names).
  void on_event(const devices::Event& e) override;
  /// Received frames: kept for the download, streamed to Traffic-page clients. While such a
  /// client is connected every frame goes through a canproto::Decoder per interface (the
  /// reassembly `loxcan decode` uses), so the frame that completes a fragmented packet shows the
  /// packet too ("... => packet <decoded> size=N crc_ok"); only within the rate cap.
  bool wants_frames(devices::FrameDirection d) const override {
    return d == devices::FrameDirection::rx;
  }
  void on_frame(devices::FrameDirection, std::int64_t ts_ns,
                const canproto::Frame& frame) override {
    memory_.record_frame(frame);
    if (frame_clients_ > 0) stream_frame(frame, ts_ns);
  }
  /// A command refused by the MQTT /set path (from MQTT or from a page).
  void on_rejection(const std::string& topic, const std::string& payload, const std::string& error,
                    const std::string& detail);

  const WebCounters& counters() const { return counters_; }
  const WebMemory& memory() const { return memory_; }

 private:
  struct Client {  ///< one /api/stream connection
    HttpServer::ConnectionId id = 0;
    std::string queue;  ///< messages since the last flush
    bool frames = false;
  };

  std::unique_ptr<HttpServer> make_server();
  HttpResponse handle(HttpServer::ConnectionId id, const HttpRequest& request);
  HttpResponse start_stream(HttpServer::ConnectionId id, const Request& request);
  void broadcast(std::string_view event, const std::string& data, bool frames_only);
  void stream_frame(const canproto::Frame& frame, std::int64_t ts_ns);
  void schedule_flush();
  void flush();
  bool frame_budget(std::int64_t ts_ns);
  void remove_client(HttpServer::ConnectionId id, bool close_connection);
  void drop_clients();
  void keepalive();

  gateway::EventLoop& loop_;
  WebOptions options_;
  WebMemory memory_;
  WebHost& host_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  gateway::EventLoop::TimerId keepalive_timer_ = 0;
  gateway::EventLoop::TimerId flush_timer_ = 0;
  std::vector<Client> clients_;
  std::string line_;        ///< the stream line being broadcast (its buffer reused)
  std::string frame_text_;  ///< a streamed frame's decoded text (its buffer reused)
  std::size_t frame_clients_ = 0;
  /// One per interface (at most kMaxDecoders), only while a Traffic-page client is connected.
  std::vector<std::pair<std::string, std::unique_ptr<canproto::Decoder>>> decoders_;
  static constexpr std::size_t kMaxDecoders = 8;
  std::int64_t frame_second_ns_ = INT64_MIN / 2;
  std::uint32_t frames_this_second_ = 0;
  WebCounters counters_;
};

/// One line for the Traffic page: what the decoder made of a frame ("nat from_device value_digital
/// nat=1 device_nat=0 ..."), like `loxcan decode` prints it.
std::string describe(const canproto::Message& message);

}  // namespace loxcan::web
