#pragma once
// The web view's JSON API and session handling, independent of any HTTP library: a Request in,
// a Response out. web_view.cpp feeds it from our HTTP server (http_server.hpp); the fuzz target and
// unit tests call it directly. Everything here runs on the daemon's loop thread (no locks).
//
// Routes (all answers are JSON unless noted; errors are {"error": "...", "request": "METHOD /path"}
// with a 4xx/5xx status):
//   GET  /api/devices                      every device with channels, values, state
//   GET  /api/devices/<serial>             one device + recent events + last-hour history
//   GET  /api/stats                        interfaces, MQTT, process (uptime, version, RSS)
//   GET  /api/config                       the running map (text) and its file name
//   POST /api/config/check                 body: YAML; answer {"ok",
//   "errors":[{file,line,column,path,message,text}]} GET  /api/miniservers                  what
//   discovery found GET  /api/frames?n=N                   the last N frames as a candump log
//   (text/plain) GET  /api/session                      {"authenticated", "csrf", "controls"} POST
//   /api/login                        body {"password": "..."}; sets the session cookie POST
//   /api/logout POST /api/devices/<serial>/channels/<channel>   body: the value, exactly as an MQTT
//   /set payload;
//                                          needs the session cookie and header X-CSRF-Token
//   GET  /api/stream                       Server-Sent Events (handled by web_view.cpp, not here)
//   GET  / and /<asset>                    the embedded pages
//
// Sessions: a login with the password from web.password_file gives a random 128-bit session id
// (cookie `loxcan_session`, HttpOnly, SameSite=Strict) and a separate random CSRF token that the
// page sends back in X-CSRF-Token. Without web.password_file there is no login: controls answer
// 403. At most kMaxSessions sessions (the oldest is dropped); sessions expire after 12 h.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loxcan::web {

struct Request {
  std::string method;  ///< "GET", "POST", ...
  std::string path;    ///< without the query string, percent-decoded by the server
  std::map<std::string, std::string> query;
  std::string cookie;  ///< the Cookie header as sent
  std::string csrf;    ///< the X-CSRF-Token header
  std::string body;
  bool body_too_large = false;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool stream = false;  ///< /api/stream: the server turns this request into an SSE client
};

/// The result of a control: empty error when accepted.
struct ControlResult {
  std::string error;   ///< e.g. "out_of_range", "unknown_device"; empty: accepted
  std::string detail;  ///< "150 is outside 0..100"
  std::string topic;   ///< the MQTT /set topic the command is equivalent to
};

/// What the daemon provides. Called on the loop thread, during a request.
class WebHost {
 public:
  virtual ~WebHost() = default;
  /// Array of devices: {serial, name, model, generation, nat, parent, branch, firmware, state,
  /// last_seen, emulated, protocol, channels:[{id, name, direction, type, unit, writable, min,
  /// max}]}
  virtual nlohmann::json devices() = 0;
  virtual nlohmann::json stats() = 0;
  virtual nlohmann::json miniservers() = 0;
  /// The running configuration file: name and text.
  virtual std::pair<std::string, std::string> config_text() = 0;
  /// The same checker as --check-config, on `yaml` named `file`: diagnostics (empty: valid).
  virtual nlohmann::json check_config(std::string_view yaml, std::string_view file) = 0;
  /// Through the MQTT /set path. `channel` is the channel id from devices().
  virtual ControlResult control(std::uint32_t serial, const std::string& channel,
                                std::string_view payload) = 0;
};

/// Values, events and frames the web view keeps for the pages (filled by WebView).
class Memory {
 public:
  virtual ~Memory() = default;
  /// {channel id: value} for one serial (null when nothing seen).
  virtual nlohmann::json values(std::uint32_t serial) const = 0;
  virtual nlohmann::json events(std::uint32_t serial) const = 0;
  virtual nlohmann::json history(std::uint32_t serial) const = 0;
  /// The last `n` frames as candump log lines.
  virtual std::string candump(std::size_t n) const = 0;
};

struct ApiOptions {
  std::string password;  ///< empty: no login possible, controls refused
  std::size_t max_body = 256 * 1024;
};

class Api {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using Random = std::function<std::string()>;  ///< 32 hex digits from a CSPRNG

  Api(ApiOptions options, WebHost& host, const Memory& memory, Clock clock = {},
      Random random = {});

  Response handle(const Request& request);

  static constexpr std::size_t kMaxSessions = 16;
  static constexpr std::chrono::hours kSessionLifetime{12};

 private:
  struct Session {
    std::string id;
    std::string csrf;
    std::chrono::steady_clock::time_point created;
  };

  Response route(const Request& r);
  Response device(const Request& r, std::string_view serial_text);
  Response control(const Request& r, std::string_view serial_text, std::string_view channel);
  Response login(const Request& r);
  Response logout(const Request& r);
  Response session_info(const Request& r);
  Response config_check(const Request& r);
  Response frames(const Request& r);
  const Session* session_of(const Request& r);

  ApiOptions options_;
  WebHost& host_;
  const Memory& memory_;
  Clock clock_;
  Random random_;
  std::deque<Session> sessions_;
};

/// A JSON error response: {"error": message, "request": "METHOD path"}.
Response error_response(int status, const Request& r, std::string message);
/// "13000001" (8 hex digits, any case) -> serial.
std::optional<std::uint32_t> parse_serial(std::string_view text);
/// Cookie header -> value of `name` ("" when absent).
std::string cookie_value(std::string_view header, std::string_view name);
/// Constant-time comparison for secrets.
bool same_secret(std::string_view a, std::string_view b);
/// A static asset (index.html, app.js, ...) or nullptr.
struct Asset {
  std::string_view path;
  std::string_view content_type;
  std::string_view body;
};
const Asset* find_asset(std::string_view path);

}  // namespace loxcan::web
