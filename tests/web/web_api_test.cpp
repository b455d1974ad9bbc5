// The web view's HTTP API through a real client (cpp-httplib) on 127.0.0.1: every endpoint, bad
// input (unknown serial, huge body, bad JSON, wrong method) answered 4xx with a JSON error naming
// the request, sessions and CSRF for controls, and the live stream (including a stuck client that
// is dropped while the loop keeps serving).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <nlohmann/json.hpp>

#include "gateway/loop/event_loop.hpp"
#include "gateway/web/web_view.hpp"
#include "tests/web/run_on_loop.hpp"

namespace {

using json = nlohmann::json;
using loxcan::gateway::EventLoop;
using namespace loxcan::web;

constexpr std::uint32_t kSerial = 0x13000001;

// Answers like the daemon would; remembers the controls it was given. Loop thread only.
class FakeHost : public WebHost {
 public:
  json devices() override {
    return json::array({{{"serial", "13000001"},
                         {"serial_int", kSerial},
                         {"name", "relay-cellar"},
                         {"state", "online"},
                         {"channels", json::array({{{"id", "q1"}, {"writable", true}}})}}});
  }
  json stats() override { return {{"version", "test"}, {"interfaces", json::array()}}; }
  json miniservers() override { return json::array({{{"serial", "504F94A00001"}}}); }
  std::pair<std::string, std::string> config_text() override {
    return {"/etc/loxcan/loxcan.yaml", "interfaces: []\n"};
  }
  json check_config(std::string_view yaml, std::string_view file) override {
    if (yaml.find("brokr") == std::string_view::npos) return json::array();
    return json::array({{{"file", file},
                         {"line", 2},
                         {"column", 3},
                         {"text", std::string(file) + ":2:3: mqtt.brokr: unknown key"}}});
  }
  ControlResult control(std::uint32_t serial, const std::string& channel,
                        std::string_view payload) override {
    controls.push_back(channel + "=" + std::string(payload));
    if (serial != kSerial) return {"unknown_device", "no device", "loxcan/x/q1/set"};
    if (payload == "7") return {"out_of_range", "7 is outside 0..1", "loxcan/relay-cellar/q1/set"};
    return {"", "", "loxcan/relay-cellar/q1/set"};
  }
  std::vector<std::string> controls;
};

class WebApi : public ::testing::Test {
 protected:
  template <class F>
  auto on_loop(F f) {
    return loxcan::test::run_on_loop(loop, std::move(f));
  }
  void SetUp() override {
    WebOptions o;
    o.listen = "127.0.0.1:0";
    o.password = "s3cret";
    // A small kernel send buffer: what a stuck client has not read stays in the server's own
    // (bounded) buffer, so the drop does not depend on the kernel's buffer autotuning.
    o.send_buffer_bytes = 4096;
    view = std::make_unique<WebView>(loop, o, host);
    ASSERT_EQ(view->start(), "");
    port = view->port();
    thread = std::thread([this] { loop.run(); });
  }
  void TearDown() override {
    on_loop([this] {
      view.reset();
      return 0;
    });
    loop.stop();
    thread.join();
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(5, 0);
    return c;
  }
  static json body_of(const httplib::Result& r) { return json::parse(r->body); }
  void expect_json_error(const httplib::Result& r, int status, const std::string& request) {
    ASSERT_TRUE(r) << "no answer";
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    const json j = body_of(r);
    EXPECT_TRUE(j.contains("error")) << r->body;
    EXPECT_EQ(j.value("request", ""), request);
  }
  // Logs in; returns {cookie, csrf}.
  std::pair<std::string, std::string> login() {
    auto r = client().Post("/api/login", R"({"password":"s3cret"})", "application/json");
    EXPECT_EQ(r->status, 200);
    const std::string set_cookie = r->get_header_value("Set-Cookie");
    EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
    return {set_cookie.substr(0, set_cookie.find(';')), body_of(r)["csrf"]};
  }

  EventLoop loop;
  FakeHost host;
  std::unique_ptr<WebView> view;
  std::uint16_t port = 0;
  std::thread thread;
};

TEST_F(WebApi, DevicesCarryTheLatestValues) {
  on_loop([this] {
    loxcan::devices::ChannelChanged cc;
    cc.device.serial = kSerial;
    cc.device.name = "relay-cellar";
    cc.channel = "q1";
    cc.value = true;
    cc.ts_ns = 1'700'000'000'000'000'000;
    view->on_event(loxcan::devices::Event{cc});
    return 0;
  });
  auto r = client().Get("/api/devices");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const json j = body_of(r);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["values"]["q1"], true);

  r = client().Get("/api/devices/13000001");
  ASSERT_EQ(r->status, 200);
  const json d = body_of(r);
  EXPECT_EQ(d["events"][0]["type"], "value");
  EXPECT_EQ(d["history"]["q1"].size(), 1u);
}

TEST_F(WebApi, UnknownOrMalformedSerial) {
  expect_json_error(client().Get("/api/devices/DEADBEEF"), 404, "GET /api/devices/DEADBEEF");
  expect_json_error(client().Get("/api/devices/xyz"), 400, "GET /api/devices/xyz");
  expect_json_error(client().Get("/api/nothing"), 404, "GET /api/nothing");
  expect_json_error(client().Get("/nothing.html"), 404, "GET /nothing.html");
}

TEST_F(WebApi, WrongMethod) {
  auto r = client().Post("/api/devices", "{}", "application/json");
  expect_json_error(r, 405, "POST /api/devices");
  EXPECT_EQ(r->get_header_value("Allow"), "GET");
  expect_json_error(client().Get("/api/config/check"), 405, "GET /api/config/check");
  expect_json_error(client().Delete("/api/stats"), 405, "DELETE /api/stats");
}

TEST_F(WebApi, HugeBodyIsRefusedAndTheServerGoesOn) {
  const std::string huge(1024 * 1024, 'x');
  expect_json_error(client().Post("/api/config/check", huge, "text/yaml"), 413,
                    "POST /api/config/check");
  auto r = client().Get("/api/stats");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body_of(r)["version"], "test");
}

TEST_F(WebApi, BadJson) {
  expect_json_error(client().Post("/api/login", "{\"password\":", "application/json"), 400,
                    "POST /api/login");
  expect_json_error(client().Post("/api/login", "[1,2]", "application/json"), 400,
                    "POST /api/login");
  expect_json_error(client().Post("/api/login", R"({"password":"wrong"})", "application/json"), 401,
                    "POST /api/login");
}

TEST_F(WebApi, ConfigCheckNamesTheLine) {
  auto r = client().Post("/api/config/check", "mqtt:\n  brokr: x\n", "text/yaml");
  ASSERT_EQ(r->status, 200);
  json j = body_of(r);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["errors"][0]["line"], 2);
  r = client().Post("/api/config/check", "mqtt: {}\n", "text/yaml");
  EXPECT_EQ(body_of(r)["ok"], true);
  r = client().Get("/api/config");
  EXPECT_EQ(body_of(r)["text"], "interfaces: []\n");
  r = client().Get("/api/miniservers");
  EXPECT_EQ(body_of(r)[0]["serial"], "504F94A00001");
}

TEST_F(WebApi, ControlsNeedASessionAndTheCsrfToken) {
  auto c = client();
  expect_json_error(c.Post("/api/devices/13000001/channels/q1", "1", "text/plain"), 401,
                    "POST /api/devices/13000001/channels/q1");
  auto [cookie, csrf] = login();
  httplib::Headers no_csrf = {{"Cookie", cookie}};
  expect_json_error(c.Post("/api/devices/13000001/channels/q1", no_csrf, "1", "text/plain"), 403,
                    "POST /api/devices/13000001/channels/q1");
  httplib::Headers wrong = {{"Cookie", cookie}, {"X-CSRF-Token", std::string(32, '0')}};
  expect_json_error(c.Post("/api/devices/13000001/channels/q1", wrong, "1", "text/plain"), 403,
                    "POST /api/devices/13000001/channels/q1");
  EXPECT_TRUE(on_loop([this] { return host.controls; }).empty());

  httplib::Headers ok = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  auto r = c.Post("/api/devices/13000001/channels/q1", ok, "1", "text/plain");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body_of(r)["topic"], "loxcan/relay-cellar/q1/set");
  r = c.Post("/api/devices/13000001/channels/q1", ok, "7", "text/plain");
  ASSERT_EQ(r->status, 422);
  EXPECT_EQ(body_of(r)["error"], "out_of_range");
  EXPECT_EQ(body_of(r)["detail"], "7 is outside 0..1");
  EXPECT_EQ(on_loop([this] { return host.controls; }), (std::vector<std::string>{"q1=1", "q1=7"}));

  r = c.Get("/api/session", ok);
  EXPECT_EQ(body_of(r)["authenticated"], true);
  c.Post("/api/logout", ok, "", "text/plain");
  expect_json_error(c.Post("/api/devices/13000001/channels/q1", ok, "1", "text/plain"), 401,
                    "POST /api/devices/13000001/channels/q1");
}

TEST_F(WebApi, PagesAreServed) {
  auto r = client().Get("/");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r->body.find("app.js"), std::string::npos);
  r = client().Get("/app.js");
  EXPECT_EQ(r->status, 200);
}

// A raw socket: the stream's client, which reads only when told to.
struct RawClient {
  int fd = -1;
  explicit RawClient(std::uint16_t port, const std::string& path) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int small = 4096;  // a small receive buffer: a stuck reader fills up fast
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    if (path.empty()) return;  // the caller writes its own request
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
    EXPECT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  }
  ~RawClient() { close(fd); }
  // Reads until `needle` was seen or 3 s passed.
  std::string read_until(const std::string& needle) {
    std::string got;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < end) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }
};

// Sends `bytes` on a new connection; returns everything read until the server closes (or 3 s).
std::string exchange(std::uint16_t port, const std::string& bytes, bool half_close = false) {
  RawClient c(port, "");
  EXPECT_EQ(write(c.fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  if (half_close) shutdown(c.fd, SHUT_WR);
  return c.read_until("\x01never");
}

std::size_t count(const std::string& s, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

TEST_F(WebApi, KeepAliveAndPipelinedRequestsAreAnsweredInOrder) {
  RawClient c(port, "");
  const std::string two =
      "GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\nGET /api/miniservers HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(c.fd, two.data(), two.size()), static_cast<ssize_t>(two.size()));
  std::string got = c.read_until("504F94A00001");
  EXPECT_EQ(count(got, "HTTP/1.1 200 OK\r\n"), 2u) << got;
  EXPECT_EQ(count(got, "Connection: keep-alive"), 2u) << got;
  EXPECT_LT(got.find("\"version\""), got.find("504F94A00001"));
  // Still open: a third request on the same connection, which asks to close it.
  const std::string last = "GET /api/session HTTP/1.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(write(c.fd, last.data(), last.size()), static_cast<ssize_t>(last.size()));
  got = c.read_until("\x01never");  // until the server closes
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  EXPECT_NE(got.find("\"authenticated\":false"), std::string::npos) << got;
  // HEAD: the headers of GET, no body.
  got = exchange(port, "HEAD /api/stats HTTP/1.0\r\n\r\n");
  EXPECT_NE(got.find("Content-Length: "), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), "") << got;
}

TEST_F(WebApi, MalformedRequestsGetAJsonErrorNamingTheRequest) {
  struct Case {
    std::string bytes;
    int status;
    std::string request;
  };
  const Case cases[] = {
      {"GET /api/devices HTTP/1.1\r\nX-Big: " + std::string(17 * 1024, 'a') + "\r\n\r\n", 431,
       "GET /api/devices"},
      {"POST /api/config/check HTTP/1.1\r\nTransfer-Encoding: "
       "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
       411, "POST /api/config/check"},
      {"GET /api/stats HTTP/2.0\r\n\r\n", 505, "GET /api/stats"},
      {"GET /api/%zz HTTP/1.1\r\n\r\n", 400, "GET /api/%zz"},
      {"hello\r\n\r\n", 400, "? "},
  };
  for (const auto& c : cases) {
    const std::string got = exchange(port, c.bytes);
    EXPECT_EQ(got.rfind("HTTP/1.1 " + std::to_string(c.status) + " ", 0), 0u) << got;
    EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
    const auto body = got.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos) << got;
    const json j = json::parse(got.substr(body + 4), nullptr, false);
    ASSERT_TRUE(j.is_object()) << got;
    EXPECT_TRUE(j.contains("error")) << got;
    EXPECT_EQ(j.value("request", ""), c.request) << got;
  }
  auto r = client().Get("/api/stats");  // the server goes on
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(WebApi, ClosedConnectionsAreForgotten) {
  {
    RawClient a(port, "/api/stats");
    RawClient b(port, "/api/stream");
    EXPECT_NE(b.read_until("live stream").find("200"), std::string::npos);
    EXPECT_NE(a.read_until("\"version\"").find("200"), std::string::npos);
    EXPECT_EQ(on_loop([this] { return view->connections(); }), 2u);
  }
  std::size_t left = 1;
  for (int i = 0; i < 100 && left != 0; ++i) {
    left = on_loop([this] { return view->connections() + view->counters().stream_clients; });
    if (left != 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(left, 0u);
}

TEST_F(WebApi, RestartMovesTheServerAndKeepsTheHistory) {
  on_loop([this] {
    loxcan::devices::ChannelChanged cc;
    cc.device.serial = kSerial;
    cc.channel = "q1";
    cc.value = 21.5;
    view->on_event(loxcan::devices::Event{cc});
    return 0;
  });
  // An address that cannot be bound: the running server stays.
  const int blocker = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(blocker, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(blocker, 1), 0);
  socklen_t len = sizeof a;
  getsockname(blocker, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string busy = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  const std::string error = on_loop([&] {
    WebOptions o = view->options();
    o.listen = busy;
    return view->restart(o);
  });
  close(blocker);
  EXPECT_NE(error.find(busy), std::string::npos) << error;
  EXPECT_EQ(on_loop([this] { return view->port(); }), port);
  ASSERT_TRUE(client().Get("/api/stats"));

  // A new port and a new password: served there, the old port closed, the history kept.
  const std::uint16_t old_port = port;
  const int probe = socket(AF_INET, SOCK_STREAM, 0);  // a free port, for the new address
  a.sin_port = 0;
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  len = sizeof a;
  getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
  close(probe);
  const std::string next = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  EXPECT_EQ(on_loop([&] {
              WebOptions o = view->options();
              o.listen = next;
              o.password = "n3w";
              return view->restart(o);
            }),
            "");
  port = on_loop([this] { return view->port(); });
  EXPECT_NE(port, old_port);
  auto r = client().Get("/api/devices");
  ASSERT_TRUE(r);
  EXPECT_EQ(body_of(r)[0]["values"]["q1"], 21.5);
  r = client().Post("/api/login", R"({"password":"n3w"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // Only a new password: the same port, the old password refused, the new one accepted.
  EXPECT_EQ(on_loop([&] {
              WebOptions o = view->options();
              o.password = "th1rd";
              return view->restart(o);
            }),
            "");
  EXPECT_EQ(on_loop([this] { return view->port(); }), port);
  r = client().Post("/api/login", R"({"password":"n3w"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = client().Post("/api/login", R"({"password":"th1rd"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  httplib::Client old("127.0.0.1", old_port);
  old.set_connection_timeout(1, 0);
  EXPECT_FALSE(old.Get("/api/stats"));
}

TEST_F(WebApi, StreamDeliversValuesAndRejections) {
  RawClient s(port, "/api/stream");
  EXPECT_NE(s.read_until("live stream").find("text/event-stream"), std::string::npos);
  on_loop([this] {
    loxcan::devices::ChannelChanged cc;
    cc.device.serial = kSerial;
    cc.channel = "q1";
    cc.value = 42.5;
    view->on_event(loxcan::devices::Event{cc});
    view->on_rejection("loxcan/relay-cellar/q1/set", "7", "out_of_range", "7 is outside 0..1");
    return 0;
  });
  const std::string got = s.read_until("event: rejected");
  EXPECT_NE(got.find("event: value\ndata: {"), std::string::npos) << got;
  EXPECT_NE(got.find("\"value\":42.5"), std::string::npos) << got;
  EXPECT_NE(got.find("\"detail\":\"7 is outside 0..1\""), std::string::npos) << got;
  EXPECT_EQ(on_loop([this] { return view->counters().stream_clients; }), 1u);
}

TEST_F(WebApi, StuckStreamClientIsDroppedNotWaitedFor) {
  RawClient stuck(port, "/api/stream");
  EXPECT_NE(stuck.read_until("live stream").find("200"), std::string::npos);
  loxcan::devices::ChannelChanged cc;
  cc.device.serial = kSerial;
  cc.device.name = "relay-cellar";
  cc.channel = "q1";
  // The reader never reads. Values arrive in batches of 100 (~13 KiB), each batch after the last
  // one was flushed: so what piles up is in the server's write buffer (the kernel's buffers are
  // small here, SO_SNDBUF 4096 and the reader's SO_RCVBUF 4096). The client must be dropped once
  // that reaches kClientQueueBytes (256 KiB: ~20 batches), and the loop keep going.
  std::uint64_t dropped = 0;
  int batches = 0;
  for (; batches < 100 && dropped == 0; ++batches) {
    dropped = on_loop([&] {
      for (int i = 0; i < 100; ++i) {
        cc.value = static_cast<double>(batches * 100 + i);
        view->on_event(loxcan::devices::Event{cc});
      }
      return view->counters().clients_dropped;
    });
    std::this_thread::sleep_for(WebView::kFlushDelay + std::chrono::milliseconds(10));
  }
  EXPECT_EQ(dropped, 1u);
  EXPECT_LE(batches, 40) << "dropped only after " << batches * 100 << " values";
  EXPECT_EQ(on_loop([this] { return view->counters().stream_clients; }), 0u);
  auto r = client().Get("/api/stats");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(WebApi, FramesAreStreamedAtAtMostTheCapAndKeptForDownload) {
  RawClient traffic(port, "/api/stream?frames=1");
  EXPECT_NE(traffic.read_until("live stream").find("200"), std::string::npos);
  loxcan::canproto::Frame f = loxcan::canproto::Frame::make(0x10000001, {1, 2, 3, 4, 5, 6, 7, 8});
  f.iface = loxcan::canproto::IfaceName("vcan0");
  on_loop([&] {
    for (int i = 0; i < 1000; ++i)
      view->on_frame(loxcan::devices::FrameDirection::rx, f.ts_ns,
                     f);  // within one second: a saturated bus
    return 0;
  });
  const auto counters = on_loop([this] { return view->counters(); });
  EXPECT_EQ(counters.frames_skipped, 1000u - WebView::kMaxStreamFramesPerSecond);
  EXPECT_NE(traffic.read_until("event: frame").find("\"raw\":\"10000001#0102030405060708\""),
            std::string::npos);
  auto r = client().Get("/api/frames?n=3");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("vcan0 10000001#0102030405060708"), std::string::npos) << r->body;
  EXPECT_EQ(std::count(r->body.begin(), r->body.end(), '\n'), 3);
  expect_json_error(client().Get("/api/frames?n=x"), 400, "GET /api/frames");
}

TEST_F(WebApi, TrafficShowsReassembledPackets) {
  RawClient traffic(port, "/api/stream?frames=1");
  EXPECT_NE(traffic.read_until("live stream").find("200"), std::string::npos);
  using namespace loxcan::canproto;
  const auto frames = *encode(LegacyMessage{
      parse_legacy_id(0x01FF0A00), LegacyPacket{0x0B, std::vector<std::uint8_t>(20, 7), false}, 0});
  ASSERT_GT(frames.size(), 2u);
  on_loop([&] {
    std::int64_t t = 1'000'000'000;
    for (Frame f : frames) {
      f.iface = IfaceName("vcan0");
      view->on_frame(loxcan::devices::FrameDirection::rx, t += 1000, f);
    }
    return 0;
  });
  const std::string got = traffic.read_until("crc_ok");
  EXPECT_EQ(count(got, "event: frame"), frames.size()) << got;
  EXPECT_EQ(count(got, "=> packet legacy"), 1u) << got;
  EXPECT_NE(got.find("size=20 crc_ok"), std::string::npos) << got;
  // Every frame line is JSON (built by hand on this path), text with quotes and control characters.
  const auto last = got.rfind("data: ");
  const json j = json::parse(got.substr(last + 6, got.find('\n', last) - last - 6), nullptr, false);
  ASSERT_TRUE(j.is_object()) << got;
  EXPECT_EQ(j["iface"], "vcan0");
  EXPECT_NE(j["text"].get<std::string>().find("text=\"\\u0007"), std::string::npos) << got;
  // The frame's own receive time, in seconds with microseconds (1 s + 1 us per frame here).
  EXPECT_NE(got.find(",\"ts\":1." + std::string(5, '0') + std::to_string(frames.size()) + ","),
            std::string::npos)
      << got;
  EXPECT_EQ(j["raw"].get<std::string>().find("01FF0A00#"), 0u) << got;
}

}  // namespace
