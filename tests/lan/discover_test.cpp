// The discovery engine over loopback only: LoxLIVE answers are sent unicast to 127.0.0.1 on the
// reply port while discover() listens (no broadcast: loopback has none), and the worker-thread
// service contract (callback, trigger, stop) of DiscoveryService.
#include "gateway/lan/discover.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace loxcan::lan {
namespace {

using namespace std::chrono_literals;

std::uint16_t free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

void send_udp(std::uint16_t port, const std::string& payload) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(port);
  ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::close(fd);
}

DiscoveryOptions loopback_options() {
  DiscoveryOptions o;
  o.interface = "lo";
  o.ssdp = false;
  o.reply_port = free_udp_port();
  o.probe_port = free_udp_port();
  o.timeout = 1500ms;
  return o;
}

// Keeps answering until discover() has had a chance to bind (no timing assumption).
std::future<void> answer_until(std::atomic<bool>& done, std::uint16_t port,
                               std::vector<std::string> replies) {
  return std::async(std::launch::async, [&done, port, replies] {
    while (!done) {
      for (const auto& r : replies) send_udp(port, r);
      std::this_thread::sleep_for(20ms);
    }
  });
}

TEST(Discover, PicksUpLoxLiveRepliesAndSkipsGarbage) {
  const DiscoveryOptions o = loopback_options();
  std::atomic<bool> done{false};
  auto sender = answer_until(
      done, o.reply_port,
      {"LoxLIVE: Haus 2.0 127.0.0.1:8080 504F0000AA01 14.1.2.3 Prog:2024-05-06 07:08:09 Type:2 "
       "HwId:A0002 IPv6:",
       std::string("\x00\xff garbage", 10), "LoxLIVE: truncated 127.0.",
       "LoxLIVE: Keller 127.0.0.1:80 504f0000aa02 13.0.0.1"});
  auto r = discover(o);
  done = true;
  sender.get();
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->size(), 2u);
  const Miniserver& a = (*r)[0];
  EXPECT_EQ(a.serial, "504F0000AA01");
  EXPECT_EQ(a.name, "Haus 2.0");
  EXPECT_EQ(a.address, "127.0.0.1");
  EXPECT_EQ(a.port, 8080);
  EXPECT_EQ(a.firmware, "14.1.2.3");
  EXPECT_EQ(a.config_date, "2024-05-06 07:08:09");
  EXPECT_EQ(a.type, 2);
  EXPECT_EQ(a.hw_id, "A0002");
  EXPECT_EQ(a.source, "127.0.0.1");
  EXPECT_TRUE(a.via_udp);
  EXPECT_EQ((*r)[1].serial, "504F0000AA02");
}

TEST(Discover, UnknownInterfaceIsAnError) {
  DiscoveryOptions o = loopback_options();
  o.interface = "no-such-if0";
  auto r = discover(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "no IPv4 interface matches 'no-such-if0'");
}

TEST(Discover, ReplyPortInUseIsAnErrorWhenNothingElseRuns) {
  DiscoveryOptions o = loopback_options();
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(o.reply_port);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  auto r = discover(o);
  ::close(fd);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("cannot bind UDP 0.0.0.0:" + std::to_string(o.reply_port)),
            std::string::npos)
      << r.error();
  EXPECT_NE(r.error().find("Address already in use"), std::string::npos) << r.error();
}

TEST(Discover, StopTokenCancelsEarly) {
  DiscoveryOptions o = loopback_options();
  o.timeout = 600s;  // would hang the test if cancellation did not work
  std::stop_source src;
  auto fut = std::async(std::launch::async, [&] { return discover(o, src.get_token()); });
  std::this_thread::sleep_for(100ms);
  src.request_stop();
  auto r = fut.get();
  EXPECT_TRUE(r);
}

TEST(DiscoveryService, CallsBackOnWorkerThreadAndStopsCleanly) {
  DiscoveryOptions o = loopback_options();
  o.timeout = 200ms;
  std::promise<std::thread::id> first;
  std::atomic<int> calls{0};
  std::atomic<bool> done{false};
  auto sender = answer_until(done, o.reply_port, {"LoxLIVE: MS 127.0.0.1:80 504F0000AA03"});
  {
    DiscoveryService svc(o, 0s, [&](DiscoveryResult r) {
      ASSERT_TRUE(r) << r.error();
      if (calls++ == 0) first.set_value(std::this_thread::get_id());
    });
    svc.start();
    auto fut = first.get_future();
    EXPECT_NE(fut.get(), std::this_thread::get_id());
    svc.trigger();
    for (int i = 0; i < 500 && calls < 2; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_GE(calls.load(), 2) << "trigger() runs discovery again";
    svc.stop();
    const int after_stop = calls;
    svc.trigger();
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(calls.load(), after_stop) << "no callback after stop()";
  }  // destructor after stop(): no double join
  done = true;
  sender.get();
}

TEST(DiscoveryService, DestructorStopsARunningDiscovery) {
  DiscoveryOptions o = loopback_options();
  o.timeout = 600s;
  std::atomic<int> calls{0};
  {
    DiscoveryService svc(o, 60s, [&](DiscoveryResult) { ++calls; });
    svc.start();
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
}  // namespace loxcan::lan
