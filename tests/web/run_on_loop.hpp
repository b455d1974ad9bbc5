#pragma once
// Test helper: runs `f` on the event loop's thread (the loop runs in a thread of the test) and
// waits for its result. The web view's state belongs to the loop thread, so tests read and change
// it only through this.
#include <future>
#include <utility>

#include "gateway/loop/event_loop.hpp"

namespace loxcan::test {

template <class F>
auto run_on_loop(gateway::EventLoop& loop, F f) {
  std::packaged_task<decltype(f())()> task(std::move(f));
  auto fut = task.get_future();
  loop.post([&task] { task(); });
  return fut.get();
}

}  // namespace loxcan::test
