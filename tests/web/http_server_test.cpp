// The web view's HTTP server (gateway/web/http_server.hpp) alone, on a real loop and real sockets:
// idle connections are closed after the idle timeout; the connection cap holds.
#include "gateway/web/http_server.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "gateway/loop/event_loop.hpp"
#include "tests/web/run_on_loop.hpp"

namespace {

using loxcan::gateway::EventLoop;
using namespace loxcan::web;
using namespace std::chrono_literals;

class HttpServerTest : public ::testing::Test {
 protected:
  template <class F>
  auto on_loop(F f) {
    return loxcan::test::run_on_loop(loop, std::move(f));
  }
  void start(HttpServer::Options o) {
    server = std::make_unique<HttpServer>(
        loop, o,
        [](HttpServer::ConnectionId, const HttpRequest& r) {
          return HttpResponse{200, "text/plain", "hello " + r.path, {}, false};
        },
        [](int status, const std::string&, const std::string&, const std::string& m) {
          return HttpResponse{status, "text/plain", m, {}, false};
        },
        [](HttpServer::ConnectionId) {});
    std::string error;
    const int fd = open_listener("127.0.0.1:0", error);
    ASSERT_GE(fd, 0) << error;
    port = bound_port(fd);
    ASSERT_EQ(server->start(fd), "");
    thread = std::thread([this] { loop.run(); });
  }
  void TearDown() override {
    if (thread.joinable()) {
      on_loop([this] {
        server.reset();
        return 0;
      });
      loop.stop();
      thread.join();
    }
  }
  int connect_client() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }
  // True when the server closed `fd` within `within`.
  static bool closed_by_server(int fd, std::chrono::milliseconds within) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(within.count())) <= 0) return false;
    char buf[256];
    return read(fd, buf, sizeof buf) == 0;
  }
  std::size_t connections() {
    return on_loop([this] { return server->connections(); });
  }

  EventLoop loop;
  std::unique_ptr<HttpServer> server;
  std::uint16_t port = 0;
  std::thread thread;
};

TEST_F(HttpServerTest, IdleConnectionsAreClosedAfterTheTimeout) {
  HttpServer::Options o;
  o.idle_timeout = 1s;
  start(o);
  const int quiet = connect_client();
  const int busy = connect_client();
  const std::string req = "GET /x HTTP/1.1\r\n\r\n";
  ASSERT_EQ(write(busy, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  char buf[256];
  pollfd p{busy, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 3000), 1);
  ASSERT_GT(read(busy, buf, sizeof buf), 0);  // the answer; the connection stays (keep-alive)
  EXPECT_EQ(connections(), 2u);
  EXPECT_FALSE(closed_by_server(quiet, 300ms));
  EXPECT_TRUE(closed_by_server(quiet, 3000ms));
  EXPECT_TRUE(closed_by_server(busy, 3000ms));
  EXPECT_EQ(connections(), 0u);
  close(quiet);
  close(busy);
}

TEST_F(HttpServerTest, ConnectionsAboveTheCapAreClosedAtOnce) {
  HttpServer::Options o;
  o.max_connections = 2;
  start(o);
  const int a = connect_client(), b = connect_client();
  for (int i = 0; i < 100 && connections() < 2; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(connections(), 2u);
  const int c = connect_client();
  EXPECT_TRUE(closed_by_server(c, 3000ms));
  EXPECT_EQ(connections(), 2u);
  close(a);
  close(b);
  close(c);
}

}  // namespace
