// The web view's request handling (gateway/web/api.cpp) on arbitrary requests: method, path, query,
// Cookie and X-CSRF-Token headers and body, as the HTTP server (http_server.hpp) hands them over.
// Input: fields separated by '\n' in that order (query as "key=value"). Must never crash, throw out
// of handle(), or answer a control without a session.
#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/web/api.hpp"
#include "gateway/web/memory.hpp"

namespace {

using json = nlohmann::json;
using namespace loxcan::web;

class Host : public WebHost {
 public:
  json devices() override {
    return json::array({{{"serial", "13000001"}, {"serial_int", 0x13000001u}, {"name", "x"}}});
  }
  json stats() override { return json::object(); }
  json miniservers() override { return json::array(); }
  std::pair<std::string, std::string> config_text() override { return {"f", "t"}; }
  json check_config(std::string_view, std::string_view) override { return json::array(); }
  ControlResult control(std::uint32_t, const std::string&, std::string_view) override {
    ++controls;
    return {};
  }
  int controls = 0;
};

std::string_view next_field(std::string_view& in) {
  const auto nl = in.find('\n');
  std::string_view f = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Host host;
  static WebMemory memory;
  static Api api(ApiOptions{"pw"}, host, memory, {}, [] { return std::string(32, 'a'); });
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Request r;
  r.method = std::string(next_field(in));
  r.path = std::string(next_field(in));
  const std::string_view q = next_field(in);
  if (const auto eq = q.find('='); eq != std::string_view::npos) {
    r.query[std::string(q.substr(0, eq))] = std::string(q.substr(eq + 1));
  }
  r.cookie = std::string(next_field(in));
  r.csrf = std::string(next_field(in));
  r.body = std::string(in);
  const int before = host.controls;
  const Response resp = api.handle(r);
  if (resp.status < 100 || resp.status > 599) __builtin_trap();
  // A control reached the host only for a logged-in session with the right CSRF token.
  if (host.controls != before &&
      (r.csrf != std::string(32, 'a') || cookie_value(r.cookie, "loxcan_session").empty())) {
    __builtin_trap();
  }
  (void)parse_serial(r.path);
  return 0;
}
