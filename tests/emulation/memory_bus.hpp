#pragma once
// An in-memory CAN bus with a fake clock for the emulation tests: every frame a node sends is
// delivered to every other connected node, in order; time only moves when run_until() says so.
#include <deque>
#include <functional>
#include <random>
#include <vector>

#include "canproto/frame.hpp"
#include "devices/emulation/device.hpp"

namespace loxcan::emulation::testing {

class MemoryBus {
 public:
  struct Node {
    std::function<void(const canproto::Frame&, Millis)> receive;
    std::function<void(Millis)> tick;
    std::function<Millis()> deadline;
    bool connected = true;
  };
  struct Sent {
    int node;
    Millis at;
    canproto::Frame frame;
  };

  /// Hooks whose send() puts frames on this bus as node `index` (see add()).
  Hooks hooks(int index, std::vector<devices::Event>* events = nullptr,
              std::vector<std::string>* logs = nullptr) {
    Hooks h;
    h.send = [this, index](const canproto::Frame& f) {
      if (!nodes_[static_cast<std::size_t>(index)].connected) return;
      queue_.push_back({index, now_, f});
      sent_.push_back({index, now_, f});
    };
    h.random = [this] { return static_cast<std::uint32_t>(rng_()); };
    if (events) h.event = [events](const devices::Event& e) { events->push_back(e); };
    if (logs) h.log = [logs](LogLevel, const std::string& s) { logs->push_back(s); };
    return h;
  }
  /// Reserves the next node index (call before building the node's hooks).
  int reserve() {
    nodes_.emplace_back();
    return static_cast<int>(nodes_.size()) - 1;
  }
  void attach(int index, Node n) { nodes_[static_cast<std::size_t>(index)] = std::move(n); }
  void set_connected(int index, bool on) { nodes_[static_cast<std::size_t>(index)].connected = on; }

  void run_until(Millis t) {
    for (;;) {
      deliver();
      Millis d = kNever;
      for (auto& n : nodes_)
        if (n.connected && n.deadline) d = std::min(d, n.deadline());
      if (d > t) break;
      now_ = std::max(now_, d);
      for (auto& n : nodes_)
        if (n.connected && n.tick) n.tick(now_);
    }
    now_ = std::max(now_, t);
    deliver();
  }
  void run_for(Millis dt) { run_until(now_ + dt); }
  Millis now() const { return now_; }
  const std::vector<Sent>& sent() const { return sent_; }
  void seed(unsigned s) { rng_.seed(s); }

 private:
  void deliver() {
    while (!queue_.empty()) {
      auto s = queue_.front();
      queue_.pop_front();
      for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (static_cast<int>(i) != s.node && nodes_[i].connected && nodes_[i].receive)
          nodes_[i].receive(s.frame, now_);
    }
  }
  std::vector<Node> nodes_;
  std::deque<Sent> queue_;
  std::vector<Sent> sent_;
  Millis now_ = 0;
  std::mt19937 rng_{42};
};

}  // namespace loxcan::emulation::testing
