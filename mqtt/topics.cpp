#include "mqtt/topics.hpp"

#include <cstdio>

#include "mqtt/model.hpp"

namespace loxcan::mqtt {

namespace {

bool is_segment_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

}  // namespace

bool is_valid_segment(std::string_view s) {
  if (s.empty() || s.size() > kMaxSegment) return false;
  for (char c : s) {
    if (!is_segment_char(c)) return false;
  }
  return true;
}

std::string sanitize_segment(std::string_view s) {
  std::string out;
  bool pending_dash = false;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (is_segment_char(c) && c != '-') {
      if (pending_dash && !out.empty()) out += '-';
      pending_dash = false;
      out += c;
    } else {
      pending_dash = true;  // collapse runs, drop at the ends
    }
    if (out.size() >= kMaxSegment) break;
  }
  if (out.size() > kMaxSegment) out.resize(kMaxSegment);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "unnamed" : out;
}

std::string serial_hex(std::uint32_t serial) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", serial);
  return buf;
}

std::string device_segment(const devices::DeviceInfo& d) {
  std::string seg = !d.name.empty()    ? sanitize_segment(d.name)
                    : !d.model.empty() ? sanitize_segment(d.model + "-" + serial_hex(d.serial))
                                       : "device-" + serial_hex(d.serial);
  if (seg == "bridge") seg += "-" + serial_hex(d.serial);
  return seg;
}

std::string channel_segment(std::string_view channel) {
  std::string seg = sanitize_segment(channel);
  if (seg == "availability" || seg == "set" || seg == "get") seg += "-ch";
  return seg;
}

std::string topic_channel(const BridgeChannel& ch) {
  return channel_segment(ch.name.empty() ? ch.spec.name : ch.name);
}

std::string check_base_topic(std::string_view base) {
  if (base.empty()) return "is empty";
  if (base.front() == '/' || base.back() == '/') return "starts or ends with '/'";
  if (base.find("//") != std::string_view::npos) return "has an empty level ('//')";
  for (char c : base) {
    if (c == '+' || c == '#') return "contains an MQTT wildcard ('+' or '#')";
    if (c == ' ') return "contains a space (LoxBerry VI names would break)";
    if (c == '%') return "contains '%' (LoxBerry VI names would break)";
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "contains a control character";
  }
  return {};
}

std::string TopicScheme::device(std::string_view dev) const {
  std::string t = base_;
  t += '/';
  t += dev;
  return t;
}

std::string TopicScheme::channel(std::string_view dev, std::string_view ch) const {
  std::string t = device(dev);
  t += '/';
  t += ch;
  return t;
}

std::string TopicScheme::set(std::string_view dev, std::string_view ch) const {
  return channel(dev, ch) + "/set";
}

std::string TopicScheme::availability(std::string_view dev) const {
  return device(dev) + "/availability";
}

std::string TopicScheme::bridge(std::string_view leaf) const {
  std::string t = base_ + "/bridge/";
  t += leaf;
  return t;
}

TopicScheme::Parsed TopicScheme::parse(std::string_view topic) const {
  Parsed p;
  if (topic.size() <= base_.size() + 1 || topic.substr(0, base_.size()) != base_ ||
      topic[base_.size()] != '/') {
    return p;
  }
  std::string_view rest = topic.substr(base_.size() + 1);
  const auto s1 = rest.find('/');
  if (s1 == std::string_view::npos) return p;
  const auto s2 = rest.find('/', s1 + 1);
  if (s2 == std::string_view::npos) return p;
  std::string_view first = rest.substr(0, s1);
  std::string_view second = rest.substr(s1 + 1, s2 - s1 - 1);
  std::string_view third = rest.substr(s2 + 1);
  if (third.find('/') != std::string_view::npos) return p;
  if (first == "bridge" && second == "request") {
    p.kind = Kind::request;
    p.channel = third;
    return p;
  }
  if (third != "set" && third != "get") return p;
  p.kind = third == "set" ? Kind::set : Kind::get;
  p.device = first;
  p.channel = second;
  return p;
}

}  // namespace loxcan::mqtt
