#include "gateway/wiring/channel_map.hpp"

#include <algorithm>
#include <type_traits>

namespace loxcan::wiring {
namespace {

const config::ChannelConfig* find_override(const config::DeviceConfig* config,
                                           std::string_view channel) {
  if (config == nullptr) return nullptr;
  for (const auto& c : config->channels) {
    if (c.channel == channel) return &c;
  }
  return nullptr;
}

MappedChannel map_channel(const devices::ChannelSpec& spec, const config::ChannelConfig* o) {
  MappedChannel m{spec, spec};
  if (o == nullptr) return m;
  if (o->name) m.public_spec.name = *o->name;
  if (o->unit) m.public_spec.unit = *o->unit;
  m.invert = o->invert;
  m.scale = o->scale;
  m.offset = o->offset;
  m.publish = o->publish;
  m.debounce_ms = o->debounce_ms;
  if (spec.type == devices::ValueType::number) {
    const double a = spec.min * m.scale + m.offset, b = spec.max * m.scale + m.offset;
    m.public_spec.min = std::min(a, b);
    m.public_spec.max = std::max(a, b);
  }
  return m;
}

}  // namespace

ChannelMap::ChannelMap(const devices::Model* model, const config::DeviceConfig* config) {
  if (model == nullptr) return;
  channels_.reserve(model->channels.size());
  for (const auto& ch : model->channels) {
    channels_.push_back(map_channel(ch.spec, find_override(config, ch.spec.name)));
  }
}

const MappedChannel* ChannelMap::by_model_name(std::string_view name) const {
  for (const auto& c : channels_) {
    if (c.model_spec.name == name) return &c;
  }
  return nullptr;
}

devices::ChannelValue ChannelMap::to_public(const MappedChannel* ch,
                                            const devices::ChannelValue& v) const {
  if (ch == nullptr) return v;
  if (const bool* b = std::get_if<bool>(&v)) return ch->invert ? !*b : *b;
  if (const double* d = std::get_if<double>(&v)) return *d * ch->scale + ch->offset;
  return v;
}

devices::ChannelValue ChannelMap::to_model(const MappedChannel* ch,
                                           const devices::ChannelValue& v) const {
  if (ch == nullptr) return v;
  if (const bool* b = std::get_if<bool>(&v)) return ch->invert ? !*b : *b;
  if (const double* d = std::get_if<double>(&v)) {
    return ch->scale != 0 ? (*d - ch->offset) / ch->scale : *d;
  }
  return v;
}

std::vector<mqtt::BridgeChannel> ChannelMap::bridge_channels(bool emulated) const {
  std::vector<mqtt::BridgeChannel> out;
  out.reserve(channels_.size());
  for (const auto& c : channels_) {
    const bool output = c.model_spec.direction == devices::ChannelDirection::output;
    // Events and commands keep the model's channel name; the bridge maps it to the topic name.
    devices::ChannelSpec spec = c.public_spec;
    spec.name = c.model_spec.name;
    out.push_back({std::move(spec), c.publish, emulated ? !output : output, c.public_spec.name});
  }
  return out;
}

}  // namespace loxcan::wiring
