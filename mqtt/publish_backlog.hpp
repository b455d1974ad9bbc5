#pragma once
// PublishBacklog: publications waiting while the broker is slower than the bus.
//
// libmosquitto queues every publish it cannot write at once, without a bound: with a broker that
// stalls or falls behind (a loaded LoxBerry, a broker on a slow link), the daemon's memory grew
// by the frame rate (+30 MB in a 10-minute soak at 3x a saturated bus). MosquittoClient hands a
// publication to libmosquitto only while libmosquitto has nothing left to write and keeps the
// rest here, where memory is bounded by the number of topics, not by time:
//   - a retained publication replaces the one waiting for the same topic (the broker keeps only
//     the last one anyway): the state on the broker ends up the same, without the steps between;
//   - the others (events, answers) wait in order, at most `max_others`; beyond that the oldest
//     of them is dropped and counted.
// The order of what waits is the order of the calls, a replaced retained publication taking the
// place of its newest version. Pure: no I/O, no clock.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <string>
#include <unordered_map>

#include "mqtt/model.hpp"

namespace loxcan::mqtt {

class PublishBacklog {
 public:
  explicit PublishBacklog(std::size_t max_others = 4096) : max_others_(max_others) {}

  /// Adds `p` at the back (see the class comment for what it replaces or drops).
  void hold(Publication p);
  bool empty() const { return waiting_.empty(); }
  std::size_t size() const { return waiting_.size(); }
  /// The oldest waiting publication; only when !empty().
  const Publication& front() const { return waiting_.front(); }
  void pop_front();
  /// Forgets everything waiting (the session is gone: the bridge republishes its retained
  /// state on the next connect). Counters stay.
  void clear();

  /// Retained publications replaced by a newer one of the same topic before they were sent.
  std::uint64_t superseded() const { return superseded_; }
  /// Other publications dropped because more than max_others waited.
  std::uint64_t dropped() const { return dropped_; }

 private:
  using Entry = std::list<Publication>::iterator;
  std::size_t max_others_;
  std::list<Publication> waiting_;
  std::unordered_map<std::string, Entry> retained_by_topic_;
  std::deque<Entry> others_;  // the non-retained entries of waiting_, oldest first
  std::uint64_t superseded_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace loxcan::mqtt
