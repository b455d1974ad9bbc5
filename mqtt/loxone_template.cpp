#include "mqtt/loxone_template.hpp"

#include "mqtt/loxberry.hpp"

namespace loxcan::mqtt {

namespace {

constexpr const char* kCrlf = "\r\n";

std::string with_unit(std::string title, const std::string& unit) {
  return unit.empty() ? title : title + " [" + unit + "]";
}

std::string device_title(const BridgeDevice& d) {
  return d.info.name.empty() ? device_segment(d.info) : d.info.name;
}

std::string channel_title(const BridgeChannel& ch) {
  return ch.name.empty() ? ch.spec.name : ch.name;
}

void add_input(std::vector<TemplateInput>& out, std::string title, const std::string& topic,
               std::string unit, bool analog) {
  out.push_back(
      {with_unit(std::move(title), unit), topic, vi_name_v1(topic), std::move(unit), analog});
}

void add_channel_inputs(std::vector<TemplateInput>& out, const TopicScheme& topics,
                        const BridgeDevice& d, const BridgeChannel& ch) {
  using devices::ValueType;
  const std::string title = device_title(d) + " " + channel_title(ch);
  const std::string topic = topics.channel(device_segment(d.info), topic_channel(ch));
  switch (ch.spec.type) {
    case ValueType::boolean: add_input(out, title, topic, "", false); break;
    case ValueType::number:
    case ValueType::bitmask: add_input(out, title, topic, ch.spec.unit, true); break;
    case ValueType::rgbw:  // the fields gateway V1 expands from the JSON light state
      add_input(out, title + " state", topic + "/state", "", false);
      add_input(out, title + " brightness", topic + "/brightness", "%", true);
      for (const char* c : {"r", "g", "b", "w"})
        add_input(out, title + " color " + c, topic + "/color_" + c, "", true);
      break;
    default: break;  // text: a Virtual Input takes numbers only
  }
}

std::string attr(const char* name, std::string_view value) {
  return std::string(name) + "=\"" + xml_escape(value) + "\"";
}

std::string udp_in(const TemplateOptions& o, const std::vector<TemplateInput>& inputs) {
  std::string x = std::string("<?xml version=\"1.0\" encoding=\"utf-8\"?>") + kCrlf;
  x += "<VirtualInUdp " + attr("Title", o.title) + " " +
       attr("Comment", "loxcan values through the LoxBerry MQTT Gateway (UDP)") + " " +
       attr("Address", o.loxberry) + " " + attr("Port", std::to_string(o.port ? o.port : 11883)) +
       " >" + kCrlf;
  for (const auto& in : inputs) {
    x += std::string("\t<VirtualInUdpCmd ") + attr("Title", in.title) + " " +
         attr("Comment", in.topic) + " " + attr("Address", "") + " " +
         attr("Check", "\\i " + in.topic + "=\\i\\v") + " Signed=\"true\" " + "Analog=\"" +
         (in.analog ? "true" : "false") + "\" " +
         "SourceValLow=\"0\" DestValLow=\"0\" SourceValHigh=\"100\" DestValHigh=\"100\" "
         "DefVal=\"0\" "
         "MinVal=\"-2147483647\" MaxVal=\"2147483647\"/>" +
         kCrlf;
  }
  return x + "</VirtualInUdp>" + kCrlf;
}

std::string out_cmds(const TemplateOptions& o, const std::vector<TemplateOutput>& outputs) {
  const std::string host = o.loxberry.empty() ? "loxberry" : o.loxberry;
  std::string x = std::string("<?xml version=\"1.0\" encoding=\"utf-8\"?>") + kCrlf;
  x += "<VirtualOut " + attr("Title", o.title) + " " +
       attr("Comment", "loxcan commands through the LoxBerry MQTT Gateway (UDP)") + " " +
       attr("Address", "/dev/udp/" + host + "/" + std::to_string(o.port ? o.port : 11884)) + " " +
       attr("CmdInit", "") + " CloseAfterSend=\"true\" " + attr("CmdSep", "") + " >" + kCrlf;
  int id = 0;
  for (const auto& out : outputs) {
    const std::string on = "publish " + out.topic + (out.analog ? " <v>" : " 1");
    const std::string off = out.analog ? "" : "publish " + out.topic + " 0";
    x += "\t<VirtualOutCmd ID=\"" + std::to_string(++id) + "\" " + attr("Title", out.title) + " " +
         attr("Comment", out.topic) + " CmdOnMethod=\"GET\" " + attr("CmdOn", on) + " " +
         attr("CmdOnHTTP", "") + " " + attr("CmdOnPost", "") + " CmdOffMethod=\"GET\" " +
         attr("CmdOff", off) + " " + attr("CmdOffHTTP", "") + " " + attr("CmdOffPost", "") +
         " Analog=\"" + (out.analog ? "true" : "false") + "\" Repeat=\"0\" RepeatRate=\"0\"/>" +
         kCrlf;
  }
  return x + "</VirtualOut>" + kCrlf;
}

std::string http_in(const std::vector<TemplateInput>& inputs) {
  std::string x =
      "# Virtual Inputs for the LoxBerry MQTT Gateway's HTTP route (Loxone Config: Virtual "
      "Inputs,\n"
      "# one per line, Name exactly as below). Columns: name, analog|digital, unit, MQTT topic.\n";
  for (const auto& in : inputs) {
    x += in.vi_name + "\t" + (in.analog ? "analog" : "digital") + "\t" +
         (in.unit.empty() ? "-" : in.unit) + "\t" + in.topic + "\n";
  }
  return x;
}

}  // namespace

std::vector<TemplateInput> template_inputs(const TopicScheme& topics,
                                           const std::vector<BridgeDevice>& devices,
                                           const std::vector<std::string>& metrics) {
  std::vector<TemplateInput> out;
  add_input(out, "loxcan bridge online", topics.bridge("state"), "", false);
  for (const auto& m : metrics)
    add_input(out, "loxcan " + m, topics.bridge("stats/" + m), m == "busload" ? "%" : "", true);
  for (const auto& d : devices) {
    add_input(out, device_title(d) + " online", topics.availability(device_segment(d.info)), "",
              false);
    for (const auto& ch : d.channels) {
      if (ch.publish) add_channel_inputs(out, topics, d, ch);
    }
  }
  return out;
}

std::vector<TemplateOutput> template_outputs(const TopicScheme& topics,
                                             const std::vector<BridgeDevice>& devices) {
  using devices::ValueType;
  std::vector<TemplateOutput> out;
  for (const auto& d : devices) {
    for (const auto& ch : d.channels) {
      const auto t = ch.spec.type;
      if (!ch.publish || !ch.writable ||
          (t != ValueType::boolean && t != ValueType::number && t != ValueType::bitmask)) {
        continue;  // RGBW and text: Loxone's output values do not map onto loxcan's commands
      }
      const std::string topic = topics.channel(device_segment(d.info), topic_channel(ch)) + "/set";
      out.push_back({with_unit(device_title(d) + " " + channel_title(ch), ch.spec.unit), topic,
                     t != ValueType::boolean});
    }
  }
  return out;
}

std::string loxone_template(const TemplateOptions& o, const TopicScheme& topics,
                            const std::vector<BridgeDevice>& devices,
                            const std::vector<std::string>& metrics) {
  switch (o.kind) {
    case TemplateKind::udp_in: return udp_in(o, template_inputs(topics, devices, metrics));
    case TemplateKind::http_in: return http_in(template_inputs(topics, devices, metrics));
    case TemplateKind::out: return out_cmds(o, template_outputs(topics, devices));
  }
  return {};
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default:
        if (c == '\t' || c == '\n' || c == '\r') {
          out += "&#" + std::to_string(static_cast<unsigned char>(c)) + ";";
        } else if (static_cast<unsigned char>(c) < 0x20) {
          out += ' ';  // not allowed in XML 1.0, not even as a reference
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace loxcan::mqtt
