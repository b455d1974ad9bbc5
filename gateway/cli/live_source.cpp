#include "gateway/cli/live_source.hpp"

namespace loxcan::cli {

LiveSource::LiveSource(std::vector<IfaceSpec> ifaces, LiveOptions options)
    : group_(loop_), ifaces_(std::move(ifaces)), options_(options) {}

void LiveSource::push(const canproto::Frame& f) {
  if (ended_ || (options_.count && accepted_ >= options_.count)) return;
  queue_.push_back(f);
  if (options_.count && ++accepted_ >= options_.count) ended_ = true;
}

int LiveSource::start(const char* verb) {
  for (const auto& spec : ifaces_) {
    auto config = make_port_config(spec, options_.port);
    if (!options_.loxone_only) config.socket.filters.clear();
    canio::CanPort& port = group_.add(std::move(config));
    port.set_frame_handler([this](const canproto::Frame& f) { push(f); });
    if (options_.errors)
      port.set_error_frame_handler(
          [this](const canproto::Frame& f, const canio::ErrorInfo&) { push(f); });
  }
  install_cli_signals(loop_, group_, [this] { ended_ = true; });
  if (int rc = group_.start_all(verb); rc != 0) return rc;
  if (options_.duration >= 0)
    loop_.add_timer(std::chrono::duration_cast<gateway::EventLoop::Duration>(
                        std::chrono::duration<double>(options_.duration)),
                    [this] { ended_ = true; });
  return 0;
}

bool LiveSource::next(canproto::Frame& frame) {
  while (queue_.empty()) {
    if (ended_) return false;
    if (idle_hook_) idle_hook_();
    loop_.run_once(std::chrono::milliseconds(-1));
  }
  frame = queue_.front();
  queue_.pop_front();
  ++delivered_;
  return true;
}

void LiveSource::finish() {
  if (options_.stats) group_.print_stats(stderr);
  group_.stop_all();
}

}  // namespace loxcan::cli
