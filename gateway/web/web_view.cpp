#include "gateway/web/web_view.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
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

template <class Int>
void append_int(std::string& o, Int v) {
  char b[24];
  auto [end, ec] = std::to_chars(b, b + sizeof b, v);
  o.append(b, end);
}

// The decoder's fields as "key=value" text (the `V` of the message bodies' visit()). Runs for
// every streamed frame: appends in place, no temporary strings.
struct TextFields {
  std::string& o;
  void key(std::string_view n) { o += ' ', o += n, o += '='; }
  template <class Int>
  void integer(std::string_view n, Int v) {  // " name=123" in one append
    char b[64];
    if (n.size() > sizeof b - 24) {
      key(n), append_int(o, v);
      return;
    }
    b[0] = ' ';
    std::memcpy(b + 1, n.data(), n.size());
    b[n.size() + 1] = '=';
    auto [end, ec] = std::to_chars(b + n.size() + 2, b + sizeof b, v);
    o.append(b, end);
  }
  void num(std::string_view n, std::uint64_t v) { integer(n, v); }
  void sint(std::string_view n, std::int64_t v) { integer(n, v); }
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
  void text(std::string_view n, std::string_view v) {  // bus bytes: maybe not UTF-8
    key(n), o += json(std::string(v)).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  void bytes(std::string_view n, std::span<const std::uint8_t> b) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    key(n);
    for (auto x : b) o += kHex[x >> 4], o += kHex[x & 15];
  }
};

// The characters append_json_string() must escape: '"', '\\' and the control characters.
constexpr std::array<bool, 256> kEscaped = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = t['\\'] = true;
  return t;
}();

// `s` as a JSON string (quotes, backslashes and control characters escaped; the decoder's text
// fields are valid UTF-8 already, see TextFields::text). Runs of plain characters are appended
// at once (a frame's text is ~100 characters, for every streamed frame).
void append_json_string(std::string& o, std::string_view s) {
  o += '"';
  std::size_t plain = 0;  // start of the current run of characters written as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!kEscaped[c]) continue;
    o.append(s.data() + plain, i - plain);
    plain = i + 1;
    if (c == '"' || c == '\\') {
      o += '\\', o += static_cast<char>(c);
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    }
  }
  o.append(s.data() + plain, s.size() - plain);
  o += '"';
}

// ns since the epoch as seconds with 6 decimals (as candump logs it: "1733342400.123456"), by
// integer arithmetic: a double's shortest form cost more than the rest of the frame's line.
std::size_t format_seconds(char* out, std::int64_t ts_ns) {
  if (ts_ns < 0) {
    auto [end, ec] = std::to_chars(out, out + 32, static_cast<double>(ts_ns) / 1e9);
    return static_cast<std::size_t>(end - out);
  }
  const std::int64_t us = ts_ns / 1000;
  char* p = std::to_chars(out, out + 24, us / 1'000'000).ptr;
  *p++ = '.';
  std::int64_t frac = us % 1'000'000;
  for (int k = 5; k >= 0; --k) p[k] = static_cast<char>('0' + frac % 10), frac /= 10;
  return static_cast<std::size_t>(p + 6 - out);
}

void describe_message(std::string& o, const canproto::Message& m) {
  TextFields v{o};
  if (const auto* n = std::get_if<canproto::NatMessage>(&m)) {
    const std::uint8_t cmd = canproto::nat_command(n->body);
    o.append("nat ").append(canproto::to_string(n->addr.dir)).append(" ");
    o.append(canproto::nat_command_name(cmd));
    v.num("nat", n->addr.nat);
    v.num("device_nat", n->addr.device_nat);
    std::visit([&](const auto& b) { b.visit(v); }, n->body);
  } else if (const auto* l = std::get_if<canproto::LegacyMessage>(&m)) {
    const std::uint8_t cmd = canproto::legacy_command(l->body);
    o.append("legacy ").append(canproto::to_string(l->addr.dir)).append(" ");
    o.append(canproto::legacy_command_name(cmd, l->addr.type));
    v.hex("serial", l->addr.serial(), 8);
    std::visit([&](const auto& b) { b.visit(v); }, l->body);
  } else if (std::holds_alternative<canproto::UnknownMessage>(m)) {
    o += "unknown";
  } else {
    o += "malformed";
  }
}

}  // namespace

std::string describe(const canproto::Message& m) {
  std::string o;
  describe_message(o, m);
  return o;
}

// ---- the server side ---------------------------------------------------------------------------

WebView::WebView(gateway::EventLoop& loop, WebOptions options, WebHost& host)
    : loop_(loop),
      options_(std::move(options)),
      memory_(options_.history_min),
      host_(host),
      api_(std::make_unique<Api>(ApiOptions{options_.password}, host_, memory_)) {}

WebView::~WebView() {
  stop();
}

std::unique_ptr<HttpServer> WebView::make_server() {
  HttpServer::Options o;
  o.send_buffer_bytes = options_.send_buffer_bytes;
  return std::make_unique<HttpServer>(
      loop_, o, [this](HttpServer::ConnectionId id, const HttpRequest& r) { return handle(id, r); },
      [](int status, const std::string& method, const std::string& path,
         const std::string& message) {
        Request r;
        r.method = method.empty() ? "?" : method;
        r.path = path;
        Response e = error_response(status, r, message);
        return HttpResponse{e.status, e.content_type, std::move(e.body), {}, false};
      },
      [this](HttpServer::ConnectionId id) { remove_client(id, false); });
}

std::string WebView::start() {
  std::string error;
  const int fd = open_listener(options_.listen, error);
  if (fd < 0) return error;
  port_ = bound_port(fd);
  server_ = make_server();
  return server_->start(fd);
}

std::string WebView::restart(WebOptions options) {
  options.history_min = options_.history_min;
  if (options.password != options_.password) {
    api_ = std::make_unique<Api>(ApiOptions{options.password}, host_, memory_);  // sessions end
  }
  if (options.listen == options_.listen && server_) {
    options_ = std::move(options);
    return {};  // the same address: the server goes on, with the new password
  }
  std::string error;
  const int fd = open_listener(options.listen, error);
  if (fd < 0) return error;  // the running server stays as it is
  stop();
  options_ = std::move(options);
  port_ = bound_port(fd);
  server_ = make_server();
  return server_->start(fd);
}

void WebView::stop() {
  if (server_) server_->stop();
  server_.reset();
  clients_.clear();
  frame_clients_ = 0;
  decoders_.clear();
  counters_.stream_clients = 0;
  if (keepalive_timer_ != 0) loop_.cancel(keepalive_timer_), keepalive_timer_ = 0;
  if (flush_timer_ != 0) loop_.cancel(flush_timer_), flush_timer_ = 0;
}

HttpResponse WebView::handle(HttpServer::ConnectionId id, const HttpRequest& h) {
  ++counters_.requests;
  Request r;
  r.method = h.method;
  r.path = h.path;
  r.query = h.query;
  if (const auto* v = h.header("cookie")) r.cookie = *v;
  if (const auto* v = h.header("x-csrf-token")) r.csrf = *v;
  r.body = h.body;
  Response resp = api_->handle(r);
  if (resp.stream) return start_stream(id, r);
  HttpResponse out{resp.status, std::move(resp.content_type), std::move(resp.body),
                   std::move(resp.headers), false};
  out.headers.emplace_back("Cache-Control", "no-store");
  out.headers.emplace_back("X-Content-Type-Options", "nosniff");
  out.headers.emplace_back("X-Frame-Options", "DENY");
  return out;
}

HttpResponse WebView::start_stream(HttpServer::ConnectionId id, const Request& r) {
  if (clients_.size() >= kMaxStreamClients) {
    Response e = error_response(
        503, r, "too many stream clients (at most " + std::to_string(kMaxStreamClients) + ")");
    return HttpResponse{e.status, e.content_type, std::move(e.body), {}, false};
  }
  Client c;
  c.id = id;
  auto f = r.query.find("frames");
  c.frames = f != r.query.end() && f->second != "0";
  frame_clients_ += c.frames;
  clients_.push_back(std::move(c));
  counters_.stream_clients = clients_.size();
  if (keepalive_timer_ == 0) keepalive_timer_ = loop_.add_periodic(15s, [this] { keepalive(); });
  HttpResponse out;
  out.content_type = "text/event-stream";
  out.headers.emplace_back("Cache-Control", "no-store");
  out.body = "retry: 1000\n: loxcan live stream\n\n";
  out.stream = true;
  return out;
}

// The memory writes the stream line only while somebody listens (by hand, from pieces it keeps per
// device and channel: this runs for every value change on the bus).
void WebView::on_event(const devices::Event& e) {
  if (clients_.empty()) {
    memory_.record(e);
    return;
  }
  const std::string_view type = memory_.record(e, &line_);
  broadcast(type, line_, false);
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
  if (!clients_.empty())
    broadcast("rejected", j.dump(-1, ' ', false, json::error_handler_t::replace), false);
  memory_.record_recent(std::move(j));
}

// The window follows the frames' own (kernel) receive times: no clock read per frame.
bool WebView::frame_budget(std::int64_t ts_ns) {
  if (ts_ns - frame_second_ns_ >= 1'000'000'000 || ts_ns < frame_second_ns_) {
    frame_second_ns_ = ts_ns;
    frames_this_second_ = 0;
  }
  if (frames_this_second_ >= kMaxStreamFramesPerSecond) {
    ++counters_.frames_skipped;
    return false;
  }
  ++frames_this_second_;
  return true;
}

// Decoded as `loxcan decode` does: per interface, with fragment reassembly (every frame is fed,
// also those over the rate cap, so that packets come out whole).
void WebView::stream_frame(const canproto::Frame& frame, std::int64_t ts_ns) {
  const std::string_view iface = frame.iface.view();
  auto it = std::find_if(decoders_.begin(), decoders_.end(),
                         [&](const auto& d) { return d.first == iface; });
  if (it == decoders_.end()) {
    if (decoders_.size() >= kMaxDecoders) decoders_.erase(decoders_.begin());
    decoders_.emplace_back(std::string(iface),
                           std::make_unique<canproto::Decoder>(canproto::Bus::link));
    it = decoders_.end() - 1;
  }
  const canproto::Decoded& d = it->second->feed(frame, ts_ns);
  if (!frame_budget(ts_ns)) return;
  std::string& text = frame_text_;  // buffers reused: no allocation per frame
  text.clear();
  describe_message(text, d.message);
  if (d.fragment_problem != nullptr) text.append(" problem=").append(d.fragment_problem);
  if (d.abandoned) {
    text.append(" => abandoned packet size=");
    append_int(text, d.abandoned->size);
    text.append(" (").append(d.abandon_reason).append(")");
  }
  if (d.packet) {
    text += " => packet ";
    describe_message(text, *d.packet_message);
    text += " size=";
    append_int(text, d.packet->size);
    text += d.packet->crc_ok() ? " crc_ok" : " CRC-MISMATCH";
  }
  // By hand, not through nlohmann::json: this runs for up to kMaxStreamFramesPerSecond frames a
  // second on the bus path, and a JSON object per frame cost ~4x the frame's own handling.
  std::string& line = line_;
  line.assign("{\"type\":\"frame\",\"iface\":");
  append_json_string(line, iface);
  char buf[std::max<std::size_t>(32, canproto::kMaxCompactText + 1)];
  line.append(",\"ts\":").append(buf, format_seconds(buf, ts_ns));
  // The compact form is hex digits, '#', 'R' and '_': nothing to escape.
  line.append(",\"raw\":\"").append(buf, canproto::format_compact(frame, buf)).append("\"");
  line += ",\"text\":";
  append_json_string(line, text);
  line += '}';
  broadcast("frame", line, true);
}

void WebView::broadcast(std::string_view event, const std::string& data, bool frames_only) {
  bool dropped = false;
  for (auto& c : clients_) {
    if (frames_only && !c.frames) continue;
    const std::size_t pending = c.queue.size() + server_->stream_pending(c.id);
    if (pending + data.size() + event.size() + 16 > kClientQueueBytes) {
      // A browser that does not keep up: drop it, never wait for it.
      ++counters_.clients_dropped;
      log()->info("web: a live-stream client fell {} bytes behind: disconnected", pending);
      server_->close(c.id);
      c.id = 0;
      dropped = true;
    } else {
      c.queue.append("event: ").append(event).append("\ndata: ").append(data).append("\n\n");
      ++counters_.stream_messages;
    }
  }
  if (dropped) drop_clients();
  if (!clients_.empty()) schedule_flush();
}

// Messages are handed to the clients at most every kFlushDelay: at bus rate (up to ~3000 frames/s
// on the Traffic page) one write per client and flush instead of one per frame.
void WebView::schedule_flush() {
  if (flush_timer_ != 0) return;
  flush_timer_ = loop_.add_timer(kFlushDelay, [this] {
    flush_timer_ = 0;
    flush();
  });
}

void WebView::flush() {
  bool dropped = false;
  for (auto& c : clients_) {
    if (c.queue.empty()) continue;
    if (!server_->send(c.id, c.queue)) c.id = 0, dropped = true;  // the peer is gone
    c.queue.clear();
  }
  if (dropped) drop_clients();
}

void WebView::keepalive() {
  for (auto& c : clients_) c.queue.append(": ping\n\n");
  flush();
}

// Forgets the clients whose connection was closed (id 0).
void WebView::drop_clients() {
  std::erase_if(clients_, [this](const Client& c) {
    if (c.id != 0) return false;
    frame_clients_ -= c.frames;
    return true;
  });
  if (frame_clients_ == 0) decoders_.clear();
  counters_.stream_clients = clients_.size();
  if (clients_.empty() && keepalive_timer_ != 0) {
    loop_.cancel(keepalive_timer_);
    keepalive_timer_ = 0;
  }
}

void WebView::remove_client(HttpServer::ConnectionId id, bool close_connection) {
  for (auto& c : clients_) {
    if (c.id != id) continue;
    if (close_connection && server_) server_->close(id);
    c.id = 0;
  }
  drop_clients();
}

}  // namespace loxcan::web
