#include "mqtt/mosquitto_client.hpp"

#include <mosquitto.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "mqtt/log.hpp"

namespace loxcan::mqtt {

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kStopFlush = std::chrono::seconds(2);
// Packets read per readiness callback at most (see on_socket).
constexpr int kMaxReadsPerWakeup = 64;

bool bytes_waiting(int fd) {
  int n = 0;
  return fd >= 0 && ::ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}
// Debian's CA directory: TLS without an explicit CA file trusts what the system trusts.
constexpr const char* kSystemCaPath = "/etc/ssl/certs";

// "connection refused", "the connection was lost": fits inside our log lines.
std::string describe(int rc) {
  std::string s = rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc);
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (!s.empty() && s.size() > 1 && std::isupper(static_cast<unsigned char>(s[0])) &&
      std::islower(static_cast<unsigned char>(s[1]))) {
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  }
  return s;
}

void check(int rc, const std::string& what) {
  if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error(what + ": " + describe(rc));
}

const char* or_null(const std::string& s) {
  return s.empty() ? nullptr : s.c_str();
}

// How often PINGREQ and the broker's silence are checked: a quarter of the keepalive (a ping is
// then at most that late; brokers allow 1.5 keepalives), between 1 and 5 s, so that an idle
// gateway wakes up rarely.
std::chrono::seconds tick_for(int keepalive_s) {
  return std::chrono::seconds(std::clamp(keepalive_s / 4, 1, 5));
}

}  // namespace

void MosquittoClient::Deleter::operator()(mosquitto* m) const {
  mosquitto_destroy(m);
}

MosquittoClient::MosquittoClient(const MqttOptions& options, Publication will, Reactor& reactor)
    : options_(options),
      will_(std::move(will)),
      reactor_(reactor),
      backoff_s_(options.reconnect_min_s) {
  if (const auto err = validate(options_); !err.empty()) throw std::invalid_argument(err);
  address_ = *broker_address(options_.broker);  // validate() checked it
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });
  mosq_.reset(mosquitto_new(effective_client_id(options_).c_str(), true, this));
  if (!mosq_)
    throw std::runtime_error(std::string("mqtt: cannot create a client: ") + std::strerror(errno));
  configure();
}

MosquittoClient::~MosquittoClient() {
  stop();
}

void MosquittoClient::configure() {
  mosquitto* m = mosq_.get();
  check(mosquitto_int_option(
            m, MOSQ_OPT_PROTOCOL_VERSION,
            options_.protocol == ProtocolVersion::v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311),
        "mqtt.protocol");
  check(mosquitto_will_set(m, will_.topic.c_str(), static_cast<int>(will_.payload.size()),
                           will_.payload.data(), will_.qos, will_.retain),
        "mqtt: last will on " + will_.topic);
  if (address_.tls) {
    const TlsOptions& t = options_.tls;
    const std::string& key = t.key_file.empty() ? t.cert_file : t.key_file;
    check(mosquitto_tls_set(m, or_null(t.ca_file), t.ca_file.empty() ? kSystemCaPath : nullptr,
                            or_null(t.cert_file), t.cert_file.empty() ? nullptr : key.c_str(),
                            nullptr),
          "mqtt.tls (ca_file \"" + t.ca_file + "\", cert_file \"" + t.cert_file + "\")");
    if (t.insecure) {
      check(mosquitto_tls_insecure_set(m, true), "mqtt.tls.insecure");
      check(mosquitto_tls_opts_set(m, 0 /* SSL_VERIFY_NONE */, nullptr, nullptr),
            "mqtt.tls.insecure");
    }
  }
  mosquitto_connect_callback_set(m, &MosquittoClient::on_connect);
  mosquitto_disconnect_callback_set(m, &MosquittoClient::on_disconnect);
  mosquitto_message_callback_set(m, &MosquittoClient::on_message);
  mosquitto_log_callback_set(m, &MosquittoClient::on_log);
}

void MosquittoClient::start() {
  if (started_) return;
  if (!options_.username.empty()) {
    const std::string password = effective_password(options_);  // throws for an unreadable file
    check(mosquitto_username_pw_set(mosq_.get(), options_.username.c_str(), password.c_str()),
          "mqtt.username");
  }
  started_ = true;
  backoff_s_ = options_.reconnect_min_s;
  log()->info("connecting to {} as {} (MQTT {})", normalized_broker_uri(options_.broker),
              effective_client_id(options_),
              options_.protocol == ProtocolVersion::v5 ? "5" : "3.1.1");
  tick_timer_ = reactor_.after(tick_for(options_.keepalive_s), [this] { keepalive_tick(); });
  connect_attempt();
}

void MosquittoClient::stop() {
  if (!started_) return;
  started_ = false;
  cancel_timers();
  if (connected_) flush_for(kStopFlush);
  backlog_.clear();
  if (backlog_.superseded() + backlog_.dropped() > 0)
    log()->info(
        "while the broker was behind: {} retained states replaced by a newer one before "
        "it read them, {} other messages dropped",
        backlog_.superseded(), backlog_.dropped());
  forget_socket();
  mosquitto_disconnect(mosq_.get());  // DISCONNECT when connected; closes the socket either way
  connected_ = false;
  pending_ = {};
}

// ---- connecting ----------------------------------------------------------------------------

void MosquittoClient::connect_attempt() {
  mosquitto* m = mosq_.get();
  // connect_async the first time (it sets host and port), reconnect_async afterwards: both close
  // a previous socket, resolve the host, start a non-blocking connect and queue CONNECT.
  const int rc = ever_attempted_ ? mosquitto_reconnect_async(m)
                                 : mosquitto_connect_async(m, address_.host.c_str(), address_.port,
                                                           options_.keepalive_s);
  ever_attempted_ = true;
  if (rc != MOSQ_ERR_SUCCESS) return fail_attempt(describe(rc));
  connect_timeout_ = reactor_.after(kConnectTimeout, [this] {
    connect_timeout_ = 0;
    if (!connected_) fail_attempt("no answer within 10 s");
  });
  sync_watch();
}

// Stops watching the current socket and its connect timeout; the next attempt closes it.
void MosquittoClient::forget_socket() {
  if (connect_timeout_) reactor_.cancel(connect_timeout_);
  connect_timeout_ = 0;
  if (watched_fd_ >= 0) reactor_.unwatch(watched_fd_);
  watched_fd_ = -1;
}

void MosquittoClient::fail_attempt(const std::string& why) {
  forget_socket();
  if (backoff_s_ == options_.reconnect_min_s) {
    log()->warn("cannot connect to {}: {}; retrying with backoff up to {} s",
                normalized_broker_uri(options_.broker), why, options_.reconnect_max_s);
  } else {
    log()->debug("cannot connect to {}: {}", normalized_broker_uri(options_.broker), why);
  }
  schedule_reconnect();
}

void MosquittoClient::schedule_reconnect() {
  if (!started_ || reconnect_timer_) return;
  reconnect_timer_ = reactor_.after(std::chrono::seconds(backoff_s_), [this] {
    reconnect_timer_ = 0;
    connect_attempt();
  });
  backoff_s_ = std::min(backoff_s_ * 2, options_.reconnect_max_s);
}

void MosquittoClient::cancel_timers() {
  for (auto* id : {&tick_timer_, &reconnect_timer_, &connect_timeout_}) {
    if (*id) reactor_.cancel(*id);
    *id = 0;
  }
}

// ---- I/O ---------------------------------------------------------------------------------

void MosquittoClient::on_socket(bool readable, bool writable) {
  mosquitto* m = mosq_.get();
  int rc = MOSQ_ERR_SUCCESS;
  // mosquitto_loop_read() reads one packet while none of our own QoS > 0 messages is in flight.
  // The daemon's loop calls this once per round, and a busy round (hundreds of CAN frames) then
  // took one command per round: seconds behind under load, and lost when the broker went away
  // meanwhile. Read what the socket holds, bounded to keep the round fair.
  for (int i = 0; readable && i < kMaxReadsPerWakeup; ++i) {
    rc = mosquitto_loop_read(m, 1);
    if (rc != MOSQ_ERR_SUCCESS || !bytes_waiting(mosquitto_socket(m))) break;
  }
  if (rc == MOSQ_ERR_SUCCESS && writable && mosquitto_socket(m) >= 0)
    rc = mosquitto_loop_write(m, 1);
  if (rc == MOSQ_ERR_SUCCESS) send_backlog();
  if (rc != MOSQ_ERR_SUCCESS && pending_.lost_cause.empty()) pending_.lost_cause = describe(rc);
  after_library_call();
}

// Hands waiting publications to libmosquitto while it can write them at once; stops as soon as
// the socket is full again (libmosquitto then holds one unsent packet, not thousands).
void MosquittoClient::send_backlog() {
  mosquitto* m = mosq_.get();
  while (!backlog_.empty() && connected_ && mosquitto_socket(m) >= 0 && !mosquitto_want_write(m)) {
    if (hand_to_library(backlog_.front()) == PublishResult::not_connected) return;
    backlog_.pop_front();  // sent, or refused for good (logged)
  }
}

void MosquittoClient::keepalive_tick() {
  tick_timer_ = reactor_.after(tick_for(options_.keepalive_s), [this] { keepalive_tick(); });
  if (watched_fd_ < 0) return;
  // PINGREQ when due; closes the socket (-> on_disconnect) when the broker stopped answering.
  const int rc = mosquitto_loop_misc(mosq_.get());
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN && pending_.lost_cause.empty()) {
    pending_.lost_cause = describe(rc);
  }
  after_library_call();
}

// Delivers what the library reported, then decides whether the session is gone. The library
// closes its socket on every error; a closed socket while started means: reconnect.
void MosquittoClient::after_library_call() {
  Pending p = std::move(pending_);
  pending_ = {};
  if (p.connected) {
    connected_ = true;
    backoff_s_ = options_.reconnect_min_s;
    if (connect_timeout_) reactor_.cancel(connect_timeout_);
    connect_timeout_ = 0;
  }
  const bool socket_gone = started_ && mosquitto_socket(mosq_.get()) < 0;
  if (!socket_gone) sync_watch();
  if (p.connected && handlers_.connected) handlers_.connected();
  for (auto& msg : p.messages) {
    if (handlers_.message) handlers_.message(std::move(msg));
  }
  if (!(p.disconnected || socket_gone) || !started_) return;
  const std::string cause = p.lost_cause.empty() ? "connection closed" : p.lost_cause;
  if (connected_) {
    connected_ = false;
    forget_backlog();
    forget_socket();
    schedule_reconnect();
    if (handlers_.lost) handlers_.lost(cause);
  } else if (!reconnect_timer_) {
    fail_attempt(cause);
  }
}

void MosquittoClient::sync_watch() {
  mosquitto* m = mosq_.get();
  const int fd = mosquitto_socket(m);
  if (fd != watched_fd_) {
    if (watched_fd_ >= 0) reactor_.unwatch(watched_fd_);
    watched_fd_ = fd;
    write_interest_ = false;
    if (fd < 0) return;
    reactor_.watch(fd, [this](bool r, bool w) { on_socket(r, w); });
  }
  if (fd < 0) return;
  const bool want = mosquitto_want_write(m);
  if (want != write_interest_) {
    write_interest_ = want;
    reactor_.set_write_interest(fd, want);
  }
}

// Bounded blocking flush for shutdown only: the loop is about to stop anyway.
void MosquittoClient::flush_for(std::chrono::milliseconds limit) {
  mosquitto* m = mosq_.get();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  send_backlog();
  while (mosquitto_want_write(m) && mosquitto_socket(m) >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{mosquitto_socket(m), POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    if (mosquitto_loop_write(m, 1) != MOSQ_ERR_SUCCESS) break;
    send_backlog();
  }
}

void MosquittoClient::want_writable() {
  if (write_interest_ || watched_fd_ < 0) return;
  write_interest_ = true;
  reactor_.set_write_interest(watched_fd_, true);
}

void MosquittoClient::forget_backlog() {
  if (backlog_.empty()) return;
  log()->info(
      "{} publications waiting for the broker dropped with the connection (retained "
      "states are republished on the next connect)",
      backlog_.size());
  backlog_.clear();
}

// ---- requests --------------------------------------------------------------------------------

PublishResult MosquittoClient::publish(const Publication& p) {
  if (!connected_) return PublishResult::not_connected;
  // The broker is behind (libmosquitto could not write everything yet): wait in the bounded
  // backlog, where a newer state replaces an older one, instead of libmosquitto's unbounded queue.
  if (!backlog_.empty() || mosquitto_want_write(mosq_.get())) {
    backlog_.hold(p);
    want_writable();  // the socket's next writable moment sends the backlog
    return PublishResult::ok;
  }
  const PublishResult r = hand_to_library(p);
  // Written at once unless the socket was full; then the loop finishes it.
  if (r == PublishResult::ok && mosquitto_want_write(mosq_.get())) want_writable();
  return r;
}

PublishResult MosquittoClient::hand_to_library(const Publication& p) {
  const int rc =
      mosquitto_publish(mosq_.get(), nullptr, p.topic.c_str(), static_cast<int>(p.payload.size()),
                        p.payload.data(), p.qos, p.retain);
  switch (rc) {
    case MOSQ_ERR_SUCCESS: return PublishResult::ok;
    case MOSQ_ERR_NO_CONN:
    case MOSQ_ERR_CONN_LOST:
    case MOSQ_ERR_ERRNO:
      return PublishResult::not_connected;  // the read side notices and reconnects
    default:
      log()->warn("publish to {} failed: {}", p.topic, describe(rc));
      return PublishResult::error;
  }
}

bool MosquittoClient::subscribe(const std::string& filter, int qos) {
  const int rc = mosquitto_subscribe(mosq_.get(), nullptr, filter.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS) log()->warn("subscribe to {} failed: {}", filter, describe(rc));
  return rc == MOSQ_ERR_SUCCESS;
}

// ---- library callbacks: record only --------------------------------------------------------

void MosquittoClient::on_connect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<MosquittoClient*>(self);
  if (rc == 0) {
    c->pending_.connected = true;
    return;
  }
  const char* why = c->options_.protocol == ProtocolVersion::v5 ? mosquitto_reason_string(rc)
                                                                : mosquitto_connack_string(rc);
  log()->error("broker {} refused the connection: {}", normalized_broker_uri(c->options_.broker),
               why);
  c->pending_.lost_cause = std::string("refused: ") + why;
}

void MosquittoClient::on_disconnect(mosquitto*, void* self, int rc) {
  auto* c = static_cast<MosquittoClient*>(self);
  c->pending_.disconnected = true;
  if (c->pending_.lost_cause.empty() && rc != 0) c->pending_.lost_cause = describe(rc);
}

void MosquittoClient::on_message(mosquitto*, void* self, const mosquitto_message* m) {
  auto* c = static_cast<MosquittoClient*>(self);
  c->pending_.messages.push_back(IncomingMessage{
      m->topic,
      std::string(static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen)),
      m->retain});
}

void MosquittoClient::on_log(mosquitto*, void*, int level, const char* text) {
  if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) {
    log()->warn("libmosquitto: {}", text);
  } else if (log()->should_log(spdlog::level::trace)) {
    log()->trace("libmosquitto: {}", text);
  }
}

}  // namespace loxcan::mqtt
