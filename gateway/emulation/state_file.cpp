#include "gateway/emulation/state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace loxcan::emulation {
namespace {

[[noreturn]] void fail(std::string_view origin, const YAML::Mark& m, const std::string& what) {
  throw StateFileError(std::string(origin) + ":" + std::to_string(m.line + 1) + ":" +
                       std::to_string(m.column + 1) + ": " + what);
}

bool parse_hex_bytes(const std::string& s, emulation::DeviceId& out) {
  if (s.size() != 24) return false;
  for (std::size_t i = 0; i < 12; ++i) {
    auto [p, ec] = std::from_chars(s.data() + 2 * i, s.data() + 2 * i + 2, out[i], 16);
    if (ec != std::errc{} || p != s.data() + 2 * i + 2) return false;
  }
  return true;
}

}  // namespace

namespace {

EmulationState parse_state_yaml(std::string_view text, std::string_view origin) {
  EmulationState st;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    fail(origin, e.mark, "YAML syntax error: " + e.msg);
  }
  if (!root || root.IsNull()) return st;
  if (!root.IsMap()) fail(origin, root.Mark(), "expected a mapping with 'tree_device_ids'");
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>();
    if (key != "tree_device_ids") fail(origin, kv.first.Mark(), "unknown key '" + key + "'");
    if (kv.second.IsNull()) continue;
    if (!kv.second.IsMap())
      fail(origin, kv.second.Mark(), "tree_device_ids: expected a mapping serial: id");
    for (const auto& e : kv.second) {
      const auto serial_text = e.first.as<std::string>();
      std::uint32_t serial = 0;
      auto [p, ec] =
          std::from_chars(serial_text.data(), serial_text.data() + serial_text.size(), serial, 16);
      if (serial_text.size() != 8 || ec != std::errc{} ||
          p != serial_text.data() + serial_text.size())
        fail(origin, e.first.Mark(),
             "tree_device_ids: expected a serial of 8 hex digits, got '" + serial_text + "'");
      emulation::DeviceId id{};
      if (!e.second.IsScalar() || !parse_hex_bytes(e.second.as<std::string>(), id))
        fail(origin, e.second.Mark(),
             "tree_device_ids." + serial_text + ": expected 24 hex digits (12 bytes)");
      st.tree_device_ids[serial] = id;
    }
  }
  return st;
}

}  // namespace

EmulationState parse_state(std::string_view text, std::string_view origin) {
  try {
    return parse_state_yaml(text, origin);
  } catch (const YAML::Exception& e) {
    fail(origin, e.mark, e.msg);
  }
}

EmulationState load_state(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return {};
    throw StateFileError(path + ": cannot read: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_state(text.str(), path);
}

std::string format_state(const EmulationState& state) {
  std::string out = "# loxcan emulation state: do not edit while loxcan runs\ntree_device_ids:";
  if (state.tree_device_ids.empty()) out += " {}";
  out += '\n';
  for (const auto& [serial, id] : state.tree_device_ids) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %08X: ", serial);
    out += buf;
    for (auto b : id) {
      std::snprintf(buf, sizeof buf, "%02x", b);
      out += buf;
    }
    out += '\n';
  }
  return out;
}

void save_state(const std::string& path, const EmulationState& state) {
  const std::string tmp = path + ".tmp";
  const std::string text = format_state(state);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw StateFileError(tmp + ": cannot write: " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    throw StateFileError(tmp + ": cannot write: " + std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw StateFileError(path + ": cannot replace: " + std::strerror(e));
  }
}

}  // namespace loxcan::emulation
