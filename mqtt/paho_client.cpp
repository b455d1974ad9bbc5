#include "mqtt/paho_client.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "mqtt/log.hpp"

namespace loxcan::mqtt {

struct PahoClient::Shared {
  Executor post;
  Handlers handlers;
  std::atomic<bool> alive{true};

  // Runs `f` on the owner's thread, unless the client was stopped in between.
  template <class F>
  static void dispatch(const std::shared_ptr<Shared>& s, F f) {
    if (!s->alive) return;
    s->post([s, f = std::move(f)]() mutable {
      if (s->alive) f(*s);
    });
  }
};

namespace {
constexpr int kMaxQueuedPublishes = 100000;
}  // namespace

PahoClient::PahoClient(const MqttOptions& options, Publication will, Executor post)
    : options_(options), will_(std::move(will)), shared_(std::make_shared<Shared>()) {
  if (const auto err = validate(options_); !err.empty()) throw std::invalid_argument(err);
  if (!post) throw std::invalid_argument("PahoClient: no executor");
  shared_->post = std::move(post);
  const int version = options_.protocol == ProtocolVersion::v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
  // Paho refuses publishes once this many are queued towards its send thread (MQTT error -12),
  // even while connected: a reconnect republishes every retained topic at once, so allow plenty.
  // The bridge's own bounded buffer decides what is kept while the broker is away.
  ::mqtt::create_options create(version);
  create.set_max_buffered_messages(kMaxQueuedPublishes);
  try {
    client_ = std::make_unique<::mqtt::async_client>(normalized_broker_uri(options_.broker),
                                                     effective_client_id(options_), create,
                                                     nullptr);
  } catch (const ::mqtt::exception& e) {
    throw std::invalid_argument("mqtt.broker: \"" + options_.broker + "\": " + e.what());
  }
  auto s = shared_;
  client_->set_connected_handler([s](const std::string&) {
    Shared::dispatch(s, [](Shared& sh) {
      if (sh.handlers.connected) sh.handlers.connected();
    });
  });
  client_->set_connection_lost_handler([s](const std::string& cause) {
    Shared::dispatch(s, [cause](Shared& sh) {
      if (sh.handlers.lost) sh.handlers.lost(cause);
    });
  });
  client_->set_message_callback([s](::mqtt::const_message_ptr m) {
    IncomingMessage in{m->get_topic(), m->to_string(), m->is_retained()};
    Shared::dispatch(s, [in = std::move(in)](Shared& sh) mutable {
      if (sh.handlers.message) sh.handlers.message(std::move(in));
    });
  });
}

PahoClient::~PahoClient() {
  stop();
  // Paho's callbacks hold `shared_`; make sure none of them reaches the handlers any more.
  shared_->alive = false;
}

void PahoClient::set_handlers(Handlers h) { shared_->handlers = std::move(h); }

void PahoClient::start() {
  if (started_) return;
  ::mqtt::connect_options opts;
  if (options_.protocol == ProtocolVersion::v5) {
    opts.set_mqtt_version(MQTTVERSION_5);
    opts.set_clean_start(true);
  } else {
    opts.set_mqtt_version(MQTTVERSION_3_1_1);
    opts.set_clean_session(true);
  }
  opts.set_keep_alive_interval(options_.keepalive_s);
  opts.set_connect_timeout(10);
  opts.set_automatic_reconnect(options_.reconnect_min_s, options_.reconnect_max_s);
  if (!options_.username.empty()) {
    opts.set_user_name(options_.username);
    opts.set_password(effective_password(options_));
  }
  opts.set_will(::mqtt::will_options(will_.topic, will_.payload.data(), will_.payload.size(), will_.qos, will_.retain));
  if (uses_tls(options_.broker)) {
    ::mqtt::ssl_options ssl;
    if (!options_.tls.ca_file.empty()) ssl.set_trust_store(options_.tls.ca_file);
    if (!options_.tls.cert_file.empty()) ssl.set_key_store(options_.tls.cert_file);
    if (!options_.tls.key_file.empty()) ssl.set_private_key(options_.tls.key_file);
    ssl.set_enable_server_cert_auth(!options_.tls.insecure);
    ssl.set_verify(!options_.tls.insecure);
    opts.set_ssl(std::move(ssl));
  }
  started_ = true;
  shared_->alive = true;
  log()->info("connecting to {} as {} (MQTT {})", normalized_broker_uri(options_.broker), effective_client_id(options_),
              options_.protocol == ProtocolVersion::v5 ? "5" : "3.1.1");
  try {
    client_->connect(opts);  // failures are retried by Paho's automatic reconnect
  } catch (const ::mqtt::exception& e) {
    log()->error("cannot start connecting to {}: {}", options_.broker, e.what());
  }
}

void PahoClient::stop() {
  if (!started_) return;
  started_ = false;
  try {
    client_->disconnect(std::chrono::seconds(2))->wait_for(std::chrono::seconds(3));
  } catch (const ::mqtt::exception& e) {
    log()->debug("disconnect: {}", e.what());  // not connected: also ends the reconnect attempts
  }
  shared_->alive = false;
}

PublishResult PahoClient::publish(const Publication& p) {
  if (!client_->is_connected()) return PublishResult::not_connected;
  try {
    client_->publish(p.topic, p.payload.data(), p.payload.size(), p.qos, p.retain);
    return PublishResult::ok;
  } catch (const ::mqtt::exception& e) {
    if (!client_->is_connected()) return PublishResult::not_connected;
    log()->warn("publish to {} failed: {}", p.topic, e.what());
    return PublishResult::error;
  }
}

bool PahoClient::subscribe(const std::string& filter, int qos) {
  try {
    client_->subscribe(filter, qos);
    return true;
  } catch (const ::mqtt::exception& e) {
    log()->warn("subscribe to {} failed: {}", filter, e.what());
    return false;
  }
}

bool PahoClient::is_connected() const { return client_->is_connected(); }

}  // namespace loxcan::mqtt
