#pragma once
// MqttClient: the narrow interface the bridge uses to talk to a broker. MosquittoClient
// (mqtt/mosquitto_client.hpp) implements it with libmosquitto; tests implement it with a mock.
//
// Threading contract: every handler is invoked on the owner's thread (the loop the
// implementation is driven by), never on a library thread and never re-entrantly from inside
// publish()/subscribe(), which are called from that same thread. Handlers are installed once,
// before start().

#include <cstdint>
#include <functional>
#include <string>

#include "mqtt/model.hpp"

namespace loxcan::mqtt {

struct IncomingMessage {
  std::string topic;
  std::string payload;
  bool retained = false;  ///< delivered from the broker's retained store (a stale message)
};

/// What a client replaced or dropped on its own while the broker was slower than the daemon
/// (MosquittoClient's publish backlog); a client that never holds publications has none.
struct ClientCounters {
  std::uint64_t superseded = 0;  ///< retained publications replaced by a newer one before sending
  std::uint64_t dropped = 0;     ///< other publications dropped because too many waited
};

enum class PublishResult : std::uint8_t {
  ok,             ///< handed to the client library
  not_connected,  ///< no session right now; the caller decides whether to buffer
  error,          ///< rejected (bad topic, library queue full…)
};

class MqttClient {
 public:
  struct Handlers {
    std::function<void()> connected;               ///< every successful (re)connect
    std::function<void(const std::string&)> lost;  ///< connection lost; cause may be ""
    std::function<void(IncomingMessage)> message;  ///< a message on a subscribed topic
  };

  virtual ~MqttClient() = default;
  virtual void set_handlers(Handlers h) = 0;
  /// Starts connecting; reconnects automatically with backoff until stop().
  virtual void start() = 0;
  /// Disconnects cleanly (waits a bounded time); no handlers are called afterwards.
  virtual void stop() = 0;
  virtual PublishResult publish(const Publication& p) = 0;
  virtual bool subscribe(const std::string& filter, int qos) = 0;
  virtual bool is_connected() const = 0;
  virtual ClientCounters counters() const { return {}; }
};

}  // namespace loxcan::mqtt
