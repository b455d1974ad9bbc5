#include "mqtt/publish_backlog.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace loxcan::mqtt {
namespace {

Publication state(const std::string& topic, const std::string& value) {
  return {topic, value, 0, true};
}
Publication event(const std::string& payload) {
  return {"loxcan/bridge/event", payload, 0, false};
}

std::vector<Publication> drain(PublishBacklog& b) {
  std::vector<Publication> out;
  while (!b.empty()) {
    out.push_back(b.front());
    b.pop_front();
  }
  return out;
}

TEST(PublishBacklog, RetainedPublicationsOfOneTopicKeepOnlyTheLast) {
  PublishBacklog b;
  for (int i = 0; i < 100000; ++i) {
    b.hold(state("loxcan/di/i1", std::to_string(i)));
    b.hold(state("loxcan/di/i2", std::to_string(-i)));
  }
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.superseded(), 199998u);
  EXPECT_EQ(drain(b), (std::vector<Publication>{state("loxcan/di/i1", "99999"),
                                                state("loxcan/di/i2", "-99999")}));
}

TEST(PublishBacklog, AReplacedStateMovesBehindWhatCameBeforeIt) {
  PublishBacklog b;
  b.hold(state("a", "1"));
  b.hold(event("e1"));
  b.hold(state("a", "2"));  // the event was published with a = 1: a = 2 comes after it
  EXPECT_EQ(drain(b), (std::vector<Publication>{event("e1"), state("a", "2")}));
}

TEST(PublishBacklog, EventsWaitInOrderUpToTheirBoundThenTheOldestIsDropped) {
  PublishBacklog b(3);
  b.hold(state("a", "1"));
  for (const char* e : {"e1", "e2", "e3", "e4", "e5"}) b.hold(event(e));
  EXPECT_EQ(b.dropped(), 2u);
  EXPECT_EQ(drain(b),
            (std::vector<Publication>{state("a", "1"), event("e3"), event("e4"), event("e5")}));
}

TEST(PublishBacklog, PopAndHoldAgainKeepTheIndexRight) {
  PublishBacklog b(2);
  b.hold(event("e1"));
  b.hold(state("a", "1"));
  b.pop_front();            // e1 sent
  b.hold(state("a", "2"));  // replaces a = 1
  b.hold(event("e2"));
  b.hold(event("e3"));
  b.hold(event("e4"));  // drops e2, not a state
  b.pop_front();        // a = 2 sent
  b.hold(state("a", "3"));
  EXPECT_EQ(drain(b), (std::vector<Publication>{event("e3"), event("e4"), state("a", "3")}));
  EXPECT_EQ(b.superseded(), 1u);
  EXPECT_EQ(b.dropped(), 1u);
}

TEST(PublishBacklog, ClearForgetsEverythingButTheCounters) {
  PublishBacklog b(1);
  b.hold(state("a", "1"));
  b.hold(state("a", "2"));
  b.hold(event("e1"));
  b.hold(event("e2"));
  b.clear();
  EXPECT_TRUE(b.empty());
  b.hold(state("a", "3"));  // no stale index entry for "a"
  EXPECT_EQ(drain(b), (std::vector<Publication>{state("a", "3")}));
  EXPECT_EQ(b.superseded(), 1u);
  EXPECT_EQ(b.dropped(), 1u);
}

}  // namespace
}  // namespace loxcan::mqtt
