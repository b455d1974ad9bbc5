#include "gateway/web/api.hpp"

#include <charconv>
#include <fstream>

namespace loxcan::web {
namespace {

using json = nlohmann::json;

std::string random_hex() {
  // /dev/urandom: a CSPRNG on every Linux; std::random_device may be a PRNG elsewhere.
  unsigned char b[16] = {};
  std::ifstream in("/dev/urandom", std::ios::binary);
  in.read(reinterpret_cast<char*>(b), sizeof b);
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

Response json_response(int status, const json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "/api/devices/13000001/channels/q1" -> {"13000001", "channels", "q1"} after the prefix.
std::vector<std::string_view> split_path(std::string_view rest) {
  std::vector<std::string_view> parts;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

Response error_response(int status, const Request& r, std::string message) {
  std::string shown = r.path.size() > 200 ? r.path.substr(0, 200) + "..." : r.path;
  return json_response(status,
                       {{"error", std::move(message)}, {"request", r.method + " " + shown}});
}

std::optional<std::uint32_t> parse_serial(std::string_view text) {
  if (text.size() != 8) return std::nullopt;
  std::uint32_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc{} || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name)
      return std::string(pair.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return {};
}

bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // the length is no secret (fixed-size tokens)
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Api::Api(ApiOptions options, WebHost& host, const Memory& memory, Clock clock, Random random)
    : options_(std::move(options)),
      host_(host),
      memory_(memory),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      random_(random ? std::move(random) : Random(random_hex)) {}

Response Api::handle(const Request& r) {
  if (r.body_too_large) {
    return error_response(
        413, r, "request body larger than " + std::to_string(options_.max_body) + " bytes");
  }
  try {
    return route(r);
  } catch (const std::exception& e) {  // a bug must not take the daemon down: answer and go on
    return error_response(500, r, std::string("internal error: ") + e.what());
  }
}

Response Api::route(const Request& r) {
  const bool get = r.method == "GET" || r.method == "HEAD";
  const bool post = r.method == "POST";
  auto wrong_method = [&](const char* allowed) {
    Response resp = error_response(405, r, std::string("method not allowed; use ") + allowed);
    resp.headers.emplace_back("Allow", allowed);
    return resp;
  };
  if (!starts_with(r.path, "/api/")) {
    const Asset* a =
        find_asset(r.path == "/" ? std::string_view("/index.html") : std::string_view(r.path));
    if (!a) return error_response(404, r, "no such page");
    if (!get) return wrong_method("GET");
    Response resp;
    resp.content_type = std::string(a->content_type);
    resp.body = std::string(a->body);
    return resp;
  }
  const std::string_view path = r.path;
  if (path == "/api/devices")
    return get ? json_response(200,
                               [&] {
                                 json list = host_.devices();
                                 for (auto& d : list)
                                   d["values"] = memory_.values(d.value("serial_int", 0u));
                                 return list;
                               }())
               : wrong_method("GET");
  if (starts_with(path, "/api/devices/")) {
    auto parts = split_path(path.substr(13));
    if (parts.size() == 1) return get ? device(r, parts[0]) : wrong_method("GET");
    if (parts.size() == 3 && parts[1] == "channels") {
      return post ? control(r, parts[0], parts[2]) : wrong_method("POST");
    }
    return error_response(404, r, "no such resource");
  }
  if (path == "/api/stats") return get ? json_response(200, host_.stats()) : wrong_method("GET");
  if (path == "/api/miniservers")
    return get ? json_response(200, host_.miniservers()) : wrong_method("GET");
  if (path == "/api/config") {
    if (!get) return wrong_method("GET");
    auto [file, text] = host_.config_text();
    return json_response(200, {{"file", file}, {"text", text}});
  }
  if (path == "/api/config/check") return post ? config_check(r) : wrong_method("POST");
  if (path == "/api/frames") return get ? frames(r) : wrong_method("GET");
  if (path == "/api/session") return get ? session_info(r) : wrong_method("GET");
  if (path == "/api/login") return post ? login(r) : wrong_method("POST");
  if (path == "/api/logout") return post ? logout(r) : wrong_method("POST");
  if (path == "/api/stream") {
    if (!get) return wrong_method("GET");
    Response resp;
    resp.stream = true;
    return resp;
  }
  return error_response(404, r, "no such API endpoint");
}

Response Api::device(const Request& r, std::string_view serial_text) {
  const auto serial = parse_serial(serial_text);
  if (!serial) return error_response(400, r, "expected a serial of 8 hex digits");
  for (auto& d : host_.devices()) {
    if (d.value("serial_int", 0u) != *serial) continue;
    d["values"] = memory_.values(*serial);
    d["events"] = memory_.events(*serial);
    d["history"] = memory_.history(*serial);
    return json_response(200, d);
  }
  return error_response(404, r, "no device with serial " + std::string(serial_text));
}

Response Api::control(const Request& r, std::string_view serial_text, std::string_view channel) {
  if (options_.password.empty()) {
    return error_response(403, r, "controls are disabled: set web.password_file to allow a login");
  }
  const Session* s = session_of(r);
  if (!s) return error_response(401, r, "log in first (POST /api/login)");
  if (r.csrf.empty() || !same_secret(r.csrf, s->csrf)) {
    return error_response(403, r, "missing or wrong X-CSRF-Token header");
  }
  const auto serial = parse_serial(serial_text);
  if (!serial) return error_response(400, r, "expected a serial of 8 hex digits");
  ControlResult result = host_.control(*serial, std::string(channel), r.body);
  if (!result.error.empty()) {
    const int status =
        result.error == "unknown_device" || result.error == "unknown_channel" ? 404 : 422;
    Response resp = json_response(status, {{"error", result.error},
                                           {"detail", result.detail},
                                           {"topic", result.topic},
                                           {"request", r.method + " " + r.path}});
    return resp;
  }
  return json_response(200, {{"accepted", true}, {"topic", result.topic}});
}

const Api::Session* Api::session_of(const Request& r) {
  const std::string id = cookie_value(r.cookie, "loxcan_session");
  if (id.empty()) return nullptr;
  const auto now = clock_();
  std::erase_if(sessions_, [&](const Session& s) { return now - s.created > kSessionLifetime; });
  for (const auto& s : sessions_) {
    if (same_secret(id, s.id)) return &s;
  }
  return nullptr;
}

Response Api::login(const Request& r) {
  if (options_.password.empty())
    return error_response(403, r, "no login: web.password_file is not set");
  const json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return error_response(400, r, "expected a JSON object like {\"password\":\"...\"}");
  }
  const auto it = body.find("password");
  if (it == body.end() || !it->is_string())
    return error_response(400, r, "missing \"password\" (a string)");
  if (!same_secret(it->get<std::string>(), options_.password))
    return error_response(401, r, "wrong password");
  if (sessions_.size() >= kMaxSessions) sessions_.pop_front();
  sessions_.push_back({random_(), random_(), clock_()});
  Response resp = json_response(200, {{"authenticated", true}, {"csrf", sessions_.back().csrf}});
  resp.headers.emplace_back("Set-Cookie", "loxcan_session=" + sessions_.back().id +
                                              "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200");
  return resp;
}

Response Api::logout(const Request& r) {
  const std::string id = cookie_value(r.cookie, "loxcan_session");
  std::erase_if(sessions_, [&](const Session& s) { return !id.empty() && same_secret(id, s.id); });
  Response resp = json_response(200, {{"authenticated", false}});
  resp.headers.emplace_back("Set-Cookie",
                            "loxcan_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  return resp;
}

Response Api::session_info(const Request& r) {
  const Session* s = session_of(r);
  json out = {{"authenticated", s != nullptr}, {"login_possible", !options_.password.empty()}};
  if (s) out["csrf"] = s->csrf;
  return json_response(200, out);
}

Response Api::config_check(const Request& r) {
  json errors = host_.check_config(r.body, "edited.yaml");
  return json_response(200, {{"ok", errors.empty()}, {"errors", std::move(errors)}});
}

Response Api::frames(const Request& r) {
  std::size_t n = 1000;
  if (auto it = r.query.find("n"); it != r.query.end()) {
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    if (ec != std::errc{} || p != it->second.data() + it->second.size() || n == 0) {
      return error_response(400, r, "n: expected a positive number of frames");
    }
  }
  Response resp;
  resp.content_type = "text/plain; charset=utf-8";
  resp.body = memory_.candump(n);
  resp.headers.emplace_back("Content-Disposition", "attachment; filename=\"loxcan.log\"");
  return resp;
}

}  // namespace loxcan::web
