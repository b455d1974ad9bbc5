#pragma once
// MosquittoClient: MqttClient on top of libmosquitto (Debian libmosquitto1), driven by the owner's
// event loop through a Reactor: no library threads, no hand-off between threads. The socket is
// watched by the loop, a publish is written to it from the caller's stack, and every handler runs
// on the loop thread after the library call that produced it has returned (never from inside
// libmosquitto, so handlers may publish, subscribe or stop).
//
// Why not Paho (used until 0.1): Paho's async client hands every publish to its own send thread
// (command queue, mutexes, condition variables). Measured on the same host publishing 954
// messages/s to a local mosquitto: Paho C++ 57 us CPU per message with 2.5 voluntary + 1.5
// involuntary context switches; libmosquitto on the caller's loop 24 us and none (README,
// "Performance").
//
// Policy: clean session / clean start; keepalive from MqttOptions (PINGREQ from a tick of a
// quarter keepalive, 1..5 s);
// a retained last will; user/password (or password_file); TLS (CA file or the system store,
// client certificate and key, `insecure` skips certificate and host name checks); MQTT 3.1.1 or 5;
// connect attempts time out after 10 s; reconnects with exponential backoff reconnect_min_s ..
// reconnect_max_s, reset by every successful connect. No offline buffering here: publish()
// returns not_connected and the bridge decides.
//
// Backpressure: while libmosquitto still has unsent data (the broker is slower than the bus, or
// stalled), publish() keeps publications in a PublishBacklog (mqtt/publish_backlog.hpp): memory
// bounded by the number of retained topics plus 4,096 others, the broker's final retained state
// unchanged (a newer state of a topic replaces the waiting one). What waits when the connection
// is lost is dropped; the bridge republishes its retained state on the next connect.
//
// Errors: the constructor throws std::invalid_argument for options validate() rejects, and
// std::runtime_error when libmosquitto refuses an option (e.g. an unreadable TLS file); start()
// throws std::runtime_error for an unreadable password_file. Everything after start() is logged
// on the `mqtt` logger and retried.

#include <memory>
#include <string>
#include <vector>

#include "mqtt/client.hpp"
#include "mqtt/options.hpp"
#include "mqtt/publish_backlog.hpp"
#include "mqtt/reactor.hpp"

struct mosquitto;
struct mosquitto_message;

namespace loxcan::mqtt {

class MosquittoClient final : public MqttClient {
 public:
  MosquittoClient(const MqttOptions& options, Publication will, Reactor& reactor);
  ~MosquittoClient() override;
  MosquittoClient(const MosquittoClient&) = delete;
  MosquittoClient& operator=(const MosquittoClient&) = delete;

  void set_handlers(Handlers h) override { handlers_ = std::move(h); }
  void start() override;
  /// Writes what is still queued (at most 2 s), sends DISCONNECT and closes the socket.
  void stop() override;
  PublishResult publish(const Publication& p) override;
  bool subscribe(const std::string& filter, int qos) override;
  bool is_connected() const override { return connected_; }
  ClientCounters counters() const override { return {backlog_.superseded(), backlog_.dropped()}; }
  /// Waiting publications (see "Backpressure" above) and what the backlog replaced or dropped.
  const PublishBacklog& backlog() const { return backlog_; }

 private:
  struct Deleter {
    void operator()(mosquitto* m) const;
  };
  // What happened inside library callbacks, delivered once the library call has returned.
  struct Pending {
    bool connected = false;
    bool disconnected = false;
    std::string lost_cause;
    std::vector<IncomingMessage> messages;
  };

  void configure();
  void connect_attempt();
  void fail_attempt(const std::string& why);
  void forget_socket();
  void schedule_reconnect();
  void on_socket(bool readable, bool writable);
  void keepalive_tick();
  void after_library_call();
  void sync_watch();
  void flush_for(std::chrono::milliseconds limit);
  /// mosquitto_publish of `p`; not_connected when the session is gone, error (logged) when
  /// libmosquitto refuses it for good.
  PublishResult hand_to_library(const Publication& p);
  void send_backlog();
  void forget_backlog();
  void want_writable();
  void cancel_timers();

  static void on_connect(mosquitto*, void* self, int rc);
  static void on_disconnect(mosquitto*, void* self, int rc);
  static void on_message(mosquitto*, void* self, const mosquitto_message* m);
  static void on_log(mosquitto*, void* self, int level, const char* text);

  MqttOptions options_;
  Publication will_;
  Reactor& reactor_;
  Handlers handlers_;
  std::unique_ptr<mosquitto, Deleter> mosq_;
  BrokerAddress address_;
  Pending pending_;
  PublishBacklog backlog_;
  bool started_ = false;
  bool connected_ = false;
  bool ever_attempted_ = false;
  int backoff_s_ = 1;
  int watched_fd_ = -1;
  bool write_interest_ = false;
  Reactor::TimerId tick_timer_ = 0;
  Reactor::TimerId reconnect_timer_ = 0;
  Reactor::TimerId connect_timeout_ = 0;
};

}  // namespace loxcan::mqtt
