// http_get against real servers on 127.0.0.1 made by the test: cpp-httplib servers for HTTP and
// HTTPS (a certificate made on the fly), and raw sockets for servers that hang, drip or answer
// garbage. Nothing leaves loopback; the proxy tests use a fake proxy on loopback and targets on
// loopback ports where nothing listens, so a request that bypassed the proxy would fail.
#include "gateway/lan/http.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

namespace loxcan::lan {
namespace {

using namespace std::chrono_literals;

// An httplib server on 127.0.0.1, listening from construction until destruction.
class Server {
 public:
  explicit Server(httplib::Server& s) : s_(s) {
    port_ = s_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { s_.listen_after_bind(); });
  }
  ~Server() {
    s_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }

 private:
  httplib::Server& s_;
  int port_ = 0;
  std::thread thread_;
};

// A raw TCP listener on 127.0.0.1; `serve(fd)` runs for each accepted connection, one at a time.
class RawServer {
 public:
  explicit RawServer(std::function<void(int)> serve, bool accept = true) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    if (!accept) return;  // connections wait in the backlog, unanswered
    thread_ = std::thread([this, serve = std::move(serve)] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        serve(c);
        ::close(c);
      }
    });
  }
  ~RawServer() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

std::string read_request(int fd) {
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    req.append(buf, static_cast<std::size_t>(n));
  }
  return req;
}

void send_all(int fd, const std::string& s) {
  (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
}

int closed_port() {
  RawServer probe([](int) {}, false);
  return probe.port();  // closed again when `probe` goes
}

HttpRequest get(const std::string& url, std::chrono::milliseconds timeout = 5s) {
  HttpRequest r;
  r.url = url;
  r.timeout = timeout;
  return r;
}

TEST(HttpGet, ReturnsStatusBodyAndAsksPlainly) {
  httplib::Server s;
  std::string agent, encoding;
  s.Get("/upnp.xml", [&](const httplib::Request& req, httplib::Response& res) {
    agent = req.get_header_value("User-Agent");
    encoding = req.get_header_value("Accept-Encoding");
    res.set_content("<root/>", "text/xml");
  });
  Server srv(s);
  auto r = http_get(get(srv.url("/upnp.xml")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "<root/>");
  EXPECT_EQ(r->location, "");
  EXPECT_EQ(agent, "loxcan");
  EXPECT_EQ(encoding, "") << "no compression is asked for";
}

TEST(HttpGet, RedirectIsReturnedNeverFollowed) {
  httplib::Server s;
  std::atomic<int> followed{0};
  s.Get("/504F11223344", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "http://127.0.0.1:1/target?x=1");
  });
  s.Get("/target", [&](const httplib::Request&, httplib::Response&) { ++followed; });
  Server srv(s);
  auto r = http_get(get(srv.url("/504F11223344")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->location, "http://127.0.0.1:1/target?x=1");
  EXPECT_EQ(followed.load(), 0);
}

TEST(HttpGet, Ipv6LiteralWithPort) {
  httplib::Server s;
  std::string host_header;
  s.Get("/upnp.xml", [&](const httplib::Request& req, httplib::Response& res) {
    host_header = req.get_header_value("Host");
    res.set_content("v6", "text/plain");
  });
  const int port = s.bind_to_any_port("::1");
  if (port <= 0) GTEST_SKIP() << "no IPv6 loopback here";
  std::thread t([&] { s.listen_after_bind(); });
  auto r = http_get(get("http://[::1]:" + std::to_string(port) + "/upnp.xml"));
  s.stop();
  t.join();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "v6");
  EXPECT_EQ(host_header, "[::1]:" + std::to_string(port));
}

TEST(HttpGet, NotFoundIsAResponse) {
  httplib::Server s;
  Server srv(s);
  auto r = http_get(get(srv.url("/nothing")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 404);
}

TEST(HttpGet, BodyCapWithLengthAndChunked) {
  httplib::Server s;
  s.Get("/exact", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(64 * 1024, 'x'), "text/plain");
  });
  s.Get("/over", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(64 * 1024 + 1, 'x'), "text/plain");
  });
  s.Get("/chunked", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [](std::size_t offset, httplib::DataSink& sink) {
      if (offset > 1024 * 1024) return false;  // bounded even if the client never stops
      const std::string chunk(4096, 'y');
      return sink.write(chunk.data(), chunk.size());
    });
  });
  Server srv(s);
  auto exact = http_get(get(srv.url("/exact")));
  ASSERT_TRUE(exact) << exact.error().message;
  EXPECT_EQ(exact->body.size(), 64u * 1024);
  for (const char* path : {"/over", "/chunked"}) {
    auto r = http_get(get(srv.url(path)));
    ASSERT_FALSE(r) << path;
    EXPECT_EQ(r.error().kind, HttpErrorKind::kTooLarge) << path << ": " << r.error().message;
    EXPECT_EQ(r.error().message, "reply longer than 65536 bytes");
  }
}

TEST(HttpGet, ConnectionRefusedIsUnreachable) {
  const int port = closed_port();
  auto r = http_get(get("http://127.0.0.1:" + std::to_string(port) + "/upnp.xml"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, HttpErrorKind::kUnreachable) << r.error().message;
  EXPECT_NE(r.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.error().message;
}

TEST(HttpGet, SilentServerTimesOut) {
  RawServer silent([](int) {}, false);
  auto r = http_get(get(silent.url("/upnp.xml"), 300ms));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, HttpErrorKind::kTimeout) << r.error().message;
  EXPECT_EQ(r.error().message, "no complete reply within 300 ms");
}

TEST(HttpGet, DripFedHeadersHitTheWholeRequestTimeout) {
  // One header line every 50 ms for 10 s, then a valid reply: only a deadline on the whole
  // request (not per read) makes this a timeout instead of a 200.
  std::atomic<bool> quit{false};
  RawServer drip([&](int fd) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 200 && !quit; ++i) {
      send_all(fd, "X-Drip: " + std::to_string(i) + "\r\n");
      std::this_thread::sleep_for(50ms);
    }
    send_all(fd, "Content-Length: 2\r\n\r\nok");
  });
  auto r = http_get(get(drip.url("/upnp.xml"), 500ms));
  quit = true;
  ASSERT_FALSE(r) << "got HTTP " << r->status;
  EXPECT_EQ(r.error().kind, HttpErrorKind::kTimeout) << r.error().message;
}

TEST(HttpGet, StopTokenAbortsARunningRequest) {
  RawServer silent([](int) {}, false);
  std::stop_source src;
  HttpRequest req = get(silent.url("/upnp.xml"), 60s);  // the test would hang if stop failed
  req.stop = src.get_token();
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    src.request_stop();
  });
  auto r = http_get(req);
  stopper.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, HttpErrorKind::kCancelled) << r.error().message;
}

TEST(HttpGet, StopRequestedBeforehandSendsNothing) {
  std::atomic<int> connections{0};
  RawServer srv([&](int) { ++connections; });
  std::stop_source src;
  src.request_stop();
  HttpRequest req = get(srv.url("/"));
  req.stop = src.get_token();
  auto r = http_get(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, HttpErrorKind::kCancelled);
  EXPECT_EQ(connections.load(), 0);
}

TEST(HttpGet, GarbageReplyIsNoHttp) {
  RawServer garbage([](int fd) {
    read_request(fd);
    send_all(fd, std::string("\x00\x01\x02garbage\xff\r\n\r\n", 15));
  });
  auto r = http_get(get(garbage.url("/x")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, HttpErrorKind::kOther) << r.error().message;
  EXPECT_NE(r.error().message.find("no valid HTTP reply"), std::string::npos) << r.error().message;
}

TEST(HttpGet, PeerClosingEarlyRaisesNoSigpipe) {
  // The peer resets before the request is written; a SIGPIPE would kill this test binary.
  RawServer rude([](int fd) {
    const linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);  // close() sends RST
  });
  for (int i = 0; i < 20; ++i) {
    auto r = http_get(get(rude.url("/x")));
    EXPECT_FALSE(r);
  }
}

TEST(HttpGet, BadUrlIsRejectedBeforeAnyConnection) {
  for (const char* url :
       {"gopher://127.0.0.1/", "http://user:pw@127.0.0.1/", "127.0.0.1/x", "http://127.0.0.1:0/"}) {
    auto r = http_get(get(url));
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().kind, HttpErrorKind::kBadUrl) << url;
    EXPECT_EQ(r.error().message.rfind("unusable URL: ", 0), 0u) << r.error().message;
  }
}

// --- proxy variables ------------------------------------------------------------------------

class ProxyEnv : public testing::Test {
 protected:
  void SetUp() override { clear(); }
  void TearDown() override { clear(); }
  static void clear() {
    for (const char* n : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                          "no_proxy", "NO_PROXY"})
      unsetenv(n);
  }
};

// A fake proxy: records the request line and the Proxy-Authorization header, answers 302.
struct FakeProxy {
  std::string request;
  RawServer server{[this](int fd) {
    request = read_request(fd);
    send_all(fd,
             "HTTP/1.1 302 Found\r\nLocation: http://203.0.113.7:8080/\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n");
  }};
};

TEST_F(ProxyEnv, HttpProxyIsUsedOnlyWhenAsked) {
  FakeProxy proxy;
  const std::string target = "http://127.0.0.1:" + std::to_string(closed_port()) + "/504F11223344";
  setenv("http_proxy", ("127.0.0.1:" + std::to_string(proxy.server.port())).c_str(), 1);
  HttpRequest req = get(target);
  req.use_proxy = true;
  auto r = http_get(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->location, "http://203.0.113.7:8080/");
  EXPECT_EQ(proxy.request.rfind("GET " + target + " HTTP/1.1\r\n", 0), 0u) << proxy.request;
  EXPECT_EQ(proxy.request.find("Proxy-Authorization"), std::string::npos);

  req.use_proxy = false;  // LAN requests: straight to the (closed) target
  auto direct = http_get(req);
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().kind, HttpErrorKind::kUnreachable) << direct.error().message;
}

TEST_F(ProxyEnv, NoProxyListsBypassTheProxy) {
  FakeProxy proxy;
  const std::string target = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x";
  setenv("all_proxy", ("http://127.0.0.1:" + std::to_string(proxy.server.port())).c_str(), 1);
  for (const char* list : {"127.0.0.1", "example.net, 127.0.0.1", "*", " *"}) {
    setenv("no_proxy", list, 1);
    HttpRequest req = get(target);
    req.use_proxy = true;
    auto r = http_get(req);
    ASSERT_FALSE(r) << list << ": went through the proxy";
    EXPECT_EQ(r.error().kind, HttpErrorKind::kUnreachable) << list;
  }
  setenv("NO_PROXY", "127.0.0.2,.example.net", 1);
  unsetenv("no_proxy");
  HttpRequest req = get(target);
  req.use_proxy = true;
  auto r = http_get(req);
  ASSERT_TRUE(r) << "127.0.0.1 is not in NO_PROXY: " << r.error().message;
}

TEST_F(ProxyEnv, ProxyCredentialsAreSentAsBasicAuth) {
  FakeProxy proxy;
  setenv("http_proxy",
         ("http://us%40er:p%3Aw@127.0.0.1:" + std::to_string(proxy.server.port()) + "/").c_str(),
         1);
  HttpRequest req = get("http://127.0.0.1:" + std::to_string(closed_port()) + "/x");
  req.use_proxy = true;
  auto r = http_get(req);
  ASSERT_TRUE(r) << r.error().message;
  // base64("us@er:p:w")
  EXPECT_NE(proxy.request.find("Proxy-Authorization: Basic dXNAZXI6cDp3\r\n"), std::string::npos)
      << proxy.request;
}

TEST_F(ProxyEnv, UnusableProxyIsABadUrl) {
  for (const char* spec : {"socks5://127.0.0.1:1080", "https://127.0.0.1:3128", "http://:3128"}) {
    setenv("http_proxy", spec, 1);
    HttpRequest req = get("http://127.0.0.1:1/x");
    req.use_proxy = true;
    auto r = http_get(req);
    ASSERT_FALSE(r) << spec;
    EXPECT_EQ(r.error().kind, HttpErrorKind::kBadUrl) << spec;
    EXPECT_NE(r.error().message.find("unusable proxy"), std::string::npos) << r.error().message;
  }
}

// --- https ----------------------------------------------------------------------------------

class Https : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        std::filesystem::temp_directory_path() / ("loxcan-http-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  void TearDown() override { unsetenv("SSL_CERT_FILE"); }

  static std::filesystem::path dir_;
};
std::filesystem::path Https::dir_;

struct TlsServer {
  explicit TlsServer(const std::filesystem::path& dir)
      : s((dir / "cert.pem").c_str(), (dir / "key.pem").c_str()) {
    s.Get("/504F11223344", [](const httplib::Request&, httplib::Response& res) {
      res.status = 307;
      res.set_header("Location", "https://198.51.100.9/");
    });
    port = s.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { s.listen_after_bind(); });
  }
  ~TlsServer() {
    s.stop();
    thread.join();
  }
  httplib::SSLServer s;
  int port = 0;
  std::thread thread;
};

TEST_F(Https, VerifiedAgainstTheCaStore) {
  TlsServer srv(dir_);
  const std::string url = "https://127.0.0.1:" + std::to_string(srv.port) + "/504F11223344";
  auto untrusted = http_get(get(url));
  ASSERT_FALSE(untrusted) << "a self-signed certificate was accepted";
  EXPECT_EQ(untrusted.error().kind, HttpErrorKind::kTls) << untrusted.error().message;

  setenv("SSL_CERT_FILE", (dir_ / "cert.pem").c_str(), 1);  // now it is in "the store"
  auto trusted = http_get(get(url));
  ASSERT_TRUE(trusted) << trusted.error().message;
  EXPECT_EQ(trusted->status, 307);
  EXPECT_EQ(trusted->location, "https://198.51.100.9/");
}

TEST_F(Https, CertificateForAnotherNameIsRefused) {
  TlsServer srv(dir_);
  setenv("SSL_CERT_FILE", (dir_ / "cert.pem").c_str(), 1);
  // "localhost" reaches the same server, but the certificate names only 127.0.0.1.
  auto r = http_get(get("https://localhost:" + std::to_string(srv.port) + "/504F11223344"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, HttpErrorKind::kTls) << r.error().message;
}

}  // namespace
}  // namespace loxcan::lan
