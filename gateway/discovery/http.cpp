#include "gateway/discovery/http.hpp"

#include <curl/curl.h>

#include <charconv>
#include <memory>
#include <mutex>

namespace loxcan::discovery {
namespace {

struct Transfer {
  std::string body;
  std::size_t max_body;
  bool too_large = false;
  const std::function<bool()>* cancelled;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  if (t->body.size() + len > t->max_body) {
    t->too_large = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  t->body.append(data, len);
  return len;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return (*t->cancelled && (*t->cancelled)()) ? 1 : 0;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpError to_error(CURLcode rc, const Transfer& t, const char* detail) {
  const std::string msg = detail[0] ? detail : curl_easy_strerror(rc);
  if (t.too_large)
    return {HttpErrorKind::kTooLarge, "reply longer than " + std::to_string(t.max_body) + " bytes"};
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return {HttpErrorKind::kTimeout, msg};
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return {HttpErrorKind::kUnreachable, msg};
    case CURLE_ABORTED_BY_CALLBACK: return {HttpErrorKind::kCancelled, "cancelled"};
    default: return {HttpErrorKind::kOther, msg};
  }
}

std::string url_part(CURLU* url, CURLUPart which, unsigned flags = 0) {
  char* p = nullptr;
  if (curl_url_get(url, which, &p, flags) != CURLUE_OK || !p) return {};
  std::string s(p);
  curl_free(p);
  return s;
}

}  // namespace

std::optional<HttpUrl> parse_http_url(std::string_view text) {
  const std::string s(text);
  if (s.empty() || s.find_first_of(" \t\r\n") != std::string::npos) return std::nullopt;
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), curl_url_cleanup);
  if (!url ||
      curl_url_set(url.get(), CURLUPART_URL, s.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    return std::nullopt;
  const std::string scheme = url_part(url.get(), CURLUPART_SCHEME);
  HttpUrl u;
  u.https = scheme == "https";
  u.host = url_part(url.get(), CURLUPART_HOST);
  if ((scheme != "http" && !u.https) || u.host.empty()) return std::nullopt;
  const std::string port = url_part(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  unsigned p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535)
    return std::nullopt;
  u.port = static_cast<std::uint16_t>(p);
  return u;
}

Expected<HttpResponse, HttpError> http_get(const HttpRequest& req) {
  global_init();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return unexpected(HttpError{HttpErrorKind::kOther, "curl_easy_init failed"});
  Transfer t{{}, req.max_body, false, &req.cancelled};
  char detail[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM from worker threads
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "loxcan");
  if (!req.use_proxy) curl_easy_setopt(c, CURLOPT_PROXY, "");
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return unexpected(to_error(rc, t, detail));
  HttpResponse r;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_header* h = nullptr;
  if (curl_easy_header(c, "Location", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h && h->value)
    r.location = h->value;
  r.body = std::move(t.body);
  return r;
}

}  // namespace loxcan::discovery
