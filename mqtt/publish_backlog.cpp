#include "mqtt/publish_backlog.hpp"

#include <utility>

namespace loxcan::mqtt {

void PublishBacklog::hold(Publication p) {
  if (p.retain) {
    if (auto it = retained_by_topic_.find(p.topic); it != retained_by_topic_.end()) {
      waiting_.erase(it->second);
      retained_by_topic_.erase(it);
      ++superseded_;
    }
    std::string topic = p.topic;
    waiting_.push_back(std::move(p));
    retained_by_topic_.emplace(std::move(topic), std::prev(waiting_.end()));
    return;
  }
  if (others_.size() >= max_others_) {
    waiting_.erase(others_.front());
    others_.pop_front();
    ++dropped_;
  }
  waiting_.push_back(std::move(p));
  others_.push_back(std::prev(waiting_.end()));
}

void PublishBacklog::pop_front() {
  const Publication& p = waiting_.front();
  if (p.retain) {
    retained_by_topic_.erase(p.topic);
  } else {
    others_.pop_front();  // the oldest waiting entry is also the oldest of the others
  }
  waiting_.pop_front();
}

void PublishBacklog::clear() {
  waiting_.clear();
  retained_by_topic_.clear();
  others_.clear();
}

}  // namespace loxcan::mqtt
