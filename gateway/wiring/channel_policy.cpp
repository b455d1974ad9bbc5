#include "gateway/wiring/channel_policy.hpp"

#include <type_traits>

namespace loxcan::wiring {

ChannelPolicy::ChannelPolicy(Timers& timers, ModelLookup models)
    : timers_(timers), models_(std::move(models)) {}

ChannelPolicy::~ChannelPolicy() {
  for (auto& [key, pending] : debounced_) timers_.cancel(pending.timer);
}

void ChannelPolicy::set_command_targets(CommandTarget to_emulation, CommandTarget to_bus) {
  to_emulation_ = std::move(to_emulation);
  to_bus_ = std::move(to_bus);
}

void ChannelPolicy::apply(const config::Config& config) {
  config_ = &config;
  views_.clear();
  for (const auto& d : config.devices) {
    views_[d.serial] = DeviceView{ChannelMap(d.model, &d), d.mode == config::DeviceMode::emulate};
  }
}

ChannelPolicy::DeviceView& ChannelPolicy::view_for(std::uint32_t serial) {
  auto it = views_.find(serial);
  if (it != views_.end()) return it->second;
  const devices::Model* model = models_ ? models_(serial) : nullptr;
  return views_[serial] = DeviceView{ChannelMap(model, nullptr), false};
}

bool ChannelPolicy::emulated(std::uint32_t serial) const {
  auto it = views_.find(serial);
  return it != views_.end() && it->second.emulated;
}

void ChannelPolicy::on_event(const devices::Event& e) {
  if (const auto* cc = std::get_if<devices::ChannelChanged>(&e)) return translate(*cc);
  if (const auto* cmd = std::get_if<devices::Command>(&e)) return translate(*cmd);
  if (output_) output_(e);
}

template <class E>
void ChannelPolicy::translate(E ev) {
  const ChannelMap& map = view_for(ev.device.serial).channels;
  const MappedChannel* ch = map.by_model_name(ev.channel);
  if (ch != nullptr && !ch->publish) return;
  if constexpr (std::is_same_v<E, devices::ChannelChanged>) {
    if (ch != nullptr && ch->debounce_ms > 0 && debounce(ev, ch->debounce_ms)) return;
  }
  ev.value = map.to_public(ch, ev.value);  // the name stays: the sinks map it to their topic
  if constexpr (std::is_same_v<E, devices::ChannelChanged>) {
    if (ch != nullptr) ev.unit = ch->public_spec.unit;
  }
  if (output_) output_(devices::Event{std::move(ev)});
}

// Returns true when the event was taken; it comes back through on_event() once stable.
bool ChannelPolicy::debounce(const devices::ChannelChanged& ev, std::uint32_t ms) {
  Key key(ev.device.serial, ev.channel);
  auto it = debounced_.find(key);
  if (it != debounced_.end() && it->second.releasing) return false;  // the timer's own replay
  if (it != debounced_.end()) timers_.cancel(it->second.timer);
  auto& pending = debounced_[key];
  pending.event = ev;
  pending.timer = timers_.add_timer(std::chrono::milliseconds(ms), [this, key] { release(key); });
  return true;
}

void ChannelPolicy::release(const Key& key) {
  auto node = debounced_.find(key);
  if (node == debounced_.end()) return;
  node->second.releasing = true;
  on_event(devices::Event{node->second.event});
  debounced_.erase(key);
}

void ChannelPolicy::on_command(const mqtt::BridgeCommand& cmd) {
  DeviceView& view = view_for(cmd.device.serial);
  mqtt::BridgeCommand model_cmd = cmd;
  model_cmd.value = view.channels.to_model(view.channels.by_model_name(cmd.channel), cmd.value);
  const CommandTarget& target = view.emulated ? to_emulation_ : to_bus_;
  if (target) target(model_cmd);
}

mqtt::BridgeDevice ChannelPolicy::bridge_device(const devices::DeviceInfo& info,
                                                const devices::Model* model, bool available) {
  DeviceView& view = view_for(info.serial);
  // A device first seen before its model was known: map its channels now.
  if (model != nullptr && view.channels.channels().empty()) {
    view.channels = ChannelMap(model, config_ ? config_->find_device(info.serial) : nullptr);
  }
  // Every real Link/Tree device has a documented identify; loxcan's own emulated ones have no LED.
  return {info,      view.channels.bridge_channels(view.emulated),
          available, view.emulated,
          "link",    !view.emulated};
}

}  // namespace loxcan::wiring
