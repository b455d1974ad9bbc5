#pragma once
// Helpers for the broker tests: a real mosquitto on a free 127.0.0.1 port (started, killed and
// restarted by the test, no persistence), a single-threaded task loop standing in for the
// daemon's event loop, and libmosquitto helper clients (snapshot of the retained store,
// publishers).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/loop/loop_reactor.hpp"
#include "mqtt/model.hpp"
#include "mqtt/options.hpp"

namespace loxcan::mqtt::test {

/// A free TCP port on 127.0.0.1 (bind to port 0, read it back).
int free_port();

class Mosquitto {
 public:
  /// `extra` is appended to the generated config (auth, TLS listener options…).
  explicit Mosquitto(std::string extra = {});
  ~Mosquitto();
  Mosquitto(const Mosquitto&) = delete;
  Mosquitto& operator=(const Mosquitto&) = delete;

  void start();   ///< starts and waits until the port accepts connections
  void kill9();   ///< SIGKILL, reaped; retained messages are gone (no persistence)
  void pause();   ///< SIGSTOP: a stalled broker (connections stay open, nothing is read)
  void resume();  ///< SIGCONT
  int port() const { return port_; }
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }

 private:
  std::string extra_;
  std::string dir_;
  int port_ = 0;
  int pid_ = -1;
};

/// The daemon's EventLoop for the client under test; run_until() drives it on the test thread.
class TestLoop {
 public:
  Reactor& reactor() { return reactor_; }
  /// Runs the loop (and `idle` every ~50 ms) until `done()` or `timeout_ms` passed; returns done().
  bool run_until(const std::function<bool()>& done, int timeout_ms = 10000,
                 const std::function<void()>& idle = {});
  /// One loop round without waiting.
  void poll() { loop_.run_once(std::chrono::milliseconds(0)); }

 private:
  gateway::EventLoop loop_;
  gateway::LoopReactor reactor_{loop_};
};

/// The broker's retained messages (topic -> payload), read by a fresh subscriber to '#'.
std::map<std::string, std::string> retained_snapshot(const std::string& uri,
                                                     const std::string& user = {},
                                                     const std::string& pass = {});

/// Publishes one message with a fresh client and waits for the broker's acknowledgement.
void publish_raw(const std::string& uri, const std::string& topic, const std::string& payload,
                 bool retain = false, int qos = 1, const std::string& user = {},
                 const std::string& pass = {});

/// Publishes several messages over one connection, waiting for each (QoS from the message).
void publish_many(const std::string& uri, const std::vector<Publication>& msgs);

/// Collects messages on `filter` in the background until destroyed.
class Subscriber {
 public:
  Subscriber(const std::string& uri, const std::string& filter);
  ~Subscriber();
  std::vector<Publication> messages() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Runs a command line; returns its exit status.
int run(const std::string& cmd);

}  // namespace loxcan::mqtt::test
