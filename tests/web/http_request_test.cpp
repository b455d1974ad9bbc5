// The web server's request parser (gateway/web/http_request.hpp): what it accepts, every refusal
// with its status, the limits, and that a request parses the same whatever the chunks it came in.
#include "gateway/web/http_request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using loxcan::web::HttpRequest;
using loxcan::web::HttpRequestParser;
using State = HttpRequestParser::State;

// Feeds `bytes` in chunks of `chunk` bytes (0: whole); returns the parser.
HttpRequestParser parse(const std::string& bytes, std::size_t chunk = 0,
                        HttpRequestParser::Limits limits = {}) {
  HttpRequestParser p(limits);
  std::size_t pos = 0;
  while (pos < bytes.size() && p.state() == State::incomplete) {
    const std::size_t n = chunk == 0 ? bytes.size() - pos : std::min(chunk, bytes.size() - pos);
    const std::size_t used = p.feed(std::string_view(bytes).substr(pos, n));
    if (used < n) {
      EXPECT_NE(p.state(), State::incomplete) << "feed() left bytes without finishing";
      pos += used;
      break;
    }
    pos += used;
  }
  return p;
}

TEST(HttpRequestParser, GetWithQueryAndHeaders) {
  for (std::size_t chunk : {0u, 1u, 7u}) {
    auto p = parse(
        "GET /api/devices/13%30%30%30001?n=10&f=a+b%2Bc&n=11 HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nCOOKIE:  loxcan_session=abc \r\nX-CSRF-Token: t\r\n\r\n",
        chunk);
    ASSERT_EQ(p.state(), State::complete) << "chunk " << chunk << ": " << p.error_message();
    const HttpRequest& r = p.request();
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.path, "/api/devices/13000001");
    EXPECT_EQ(r.query.at("n"), "10");  // the first of a repeated key
    EXPECT_EQ(r.query.at("f"), "a b+c");
    ASSERT_NE(r.header("cookie"), nullptr);
    EXPECT_EQ(*r.header("cookie"), "loxcan_session=abc");
    EXPECT_EQ(*r.header("x-csrf-token"), "t");
    EXPECT_TRUE(r.keep_alive);
    EXPECT_TRUE(r.body.empty());
  }
}

TEST(HttpRequestParser, BodyOfContentLengthAndPipelinedRest) {
  const std::string two =
      "POST /api/login HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.0\r\n\r\n";
  HttpRequestParser p;
  const std::size_t used = p.feed(two);
  ASSERT_EQ(p.state(), State::complete);
  EXPECT_EQ(p.request().body, "hello");
  EXPECT_EQ(used, two.find("GET"));  // the next request stays with the caller
  p.reset();
  EXPECT_EQ(p.feed(std::string_view(two).substr(used)), two.size() - used);
  ASSERT_EQ(p.state(), State::complete);
  EXPECT_EQ(p.request().path, "/");
  EXPECT_FALSE(p.request().keep_alive);  // HTTP/1.0 without keep-alive
}

TEST(HttpRequestParser, BareLineFeedsAndLeadingEmptyLines) {
  auto p = parse("\r\n\nHEAD /x HTTP/1.1\nConnection: close\n\n", 1);
  ASSERT_EQ(p.state(), State::complete) << p.error_message();
  EXPECT_TRUE(p.request().head_only);
  EXPECT_FALSE(p.request().keep_alive);
}

struct Refusal {
  const char* bytes;
  int status;
};

TEST(HttpRequestParser, RefusalsCarryTheirStatus) {
  const Refusal cases[] = {
      {"GET /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
      {"GET /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"GET /a HTTP/2.0\r\n\r\n", 505},
      {"GET /a HTTP/0.9\r\n\r\n", 505},
      {"GET /a HTTX/1.1\r\n\r\n", 400},
      {"GET a HTTP/1.1\r\n\r\n", 400},
      {"GET http://x/a HTTP/1.1\r\n\r\n", 400},
      {"GET /a%zz HTTP/1.1\r\n\r\n", 400},
      {"GET /a?x=%4 HTTP/1.1\r\n\r\n", 400},
      {"GET  /a HTTP/1.1\r\n\r\n", 400},
      {"G(T /a HTTP/1.1\r\n\r\n", 400},
      {"GET /a HTTP/1.1\r\nNo colon\r\n\r\n", 400},
      {"GET /a HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
      {"GET /a HTTP/1.1\r\nA: b\x01\r\n\r\n", 400},
      {"POST /a HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
      {"POST /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST /a HTTP/1.1\r\nContent-Length: 262145\r\n\r\n", 413},
      {"POST /a HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413},
  };
  for (const auto& c : cases) {
    for (std::size_t chunk : {0u, 1u}) {
      auto p = parse(c.bytes, chunk);
      ASSERT_EQ(p.state(), State::error) << c.bytes;
      EXPECT_EQ(p.error_status(), c.status) << c.bytes << ": " << p.error_message();
      EXPECT_FALSE(p.error_message().empty());
    }
  }
}

TEST(HttpRequestParser, TheErrorKnowsTheRequestAsFarAsRead) {
  auto p = parse("POST /api/config/check?x=1 HTTP/1.1\r\nContent-Length: 300000\r\n\r\n");
  ASSERT_EQ(p.state(), State::error);
  EXPECT_EQ(p.error_status(), 413);
  EXPECT_EQ(p.method(), "POST");
  EXPECT_EQ(p.path_hint(), "/api/config/check");
}

TEST(HttpRequestParser, HeadLimitIsExact) {
  const HttpRequestParser::Limits limits{64, 16};
  const std::string line = "GET /a HTTP/1.1\r\n";  // 17 bytes
  const std::string fits = line + "X: " + std::string(64 - 17 - 3 - 4, 'y') + "\r\n\r\n";
  ASSERT_EQ(fits.size(), 64u);
  EXPECT_EQ(parse(fits, 0, limits).state(), State::complete);
  EXPECT_EQ(parse(fits, 1, limits).state(), State::complete);
  const std::string over = line + "X: " + std::string(64 - 17 - 3 - 4 + 1, 'y') + "\r\n\r\n";
  for (std::size_t chunk : {0u, 1u, 5u}) {
    auto p = parse(over, chunk, limits);
    ASSERT_EQ(p.state(), State::error);
    EXPECT_EQ(p.error_status(), 431);
    EXPECT_EQ(p.path_hint(), "/a");
  }
  // A head that never ends is refused as soon as it passes the limit, not buffered on.
  HttpRequestParser endless(limits);
  std::size_t taken = 0;
  for (int i = 0; i < 1000 && endless.state() == State::incomplete; ++i) taken += endless.feed("a");
  EXPECT_EQ(endless.error_status(), 431);
  EXPECT_EQ(taken, 65u);
}

TEST(HttpRequestParser, BodyLimitIsExact) {
  const HttpRequestParser::Limits limits{1024, 16};
  EXPECT_EQ(
      parse("POST /a HTTP/1.1\r\nContent-Length: 16\r\n\r\n" + std::string(16, 'b'), 3, limits)
          .state(),
      State::complete);
  auto p = parse("POST /a HTTP/1.1\r\nContent-Length: 17\r\n\r\n", 0, limits);
  EXPECT_EQ(p.error_status(), 413);
}

TEST(HttpRequestParser, IncompleteStaysIncomplete) {
  auto p = parse("POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(p.state(), State::incomplete);
  p.feed("defghij");
  ASSERT_EQ(p.state(), State::complete);
  EXPECT_EQ(p.request().body, "abcdefghij");
}

}  // namespace
