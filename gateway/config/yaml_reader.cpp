#include "gateway/config/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

namespace loxcan::config::detail {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbours ("nmae" -> "name") each cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string format_number(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}

}  // namespace

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  // Allow about one typo per four characters, at least one, at most three.
  std::size_t limit = std::clamp<std::size_t>(word.size() / 4, 1, 3);
  std::size_t best_d = limit + 1;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

Mark YamlReader::where(const YAML::Node& n) const {
  if (n.IsDefined() && n.IsNull()) {
    // yaml-cpp marks an empty value at the next token; point at its key instead.
    for (const auto& [value, key_mark] : null_keys_) {
      if (value.is(n)) return key_mark;
    }
  }
  return mark_of(n);
}

Mark YamlReader::mark_of(const YAML::Node& n) {
  if (!n.IsDefined()) return {};
  YAML::Mark m = n.Mark();
  if (m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

void YamlReader::error(const YAML::Node& at, std::string path, std::string message) {
  error(where(at), std::move(path), std::move(message));
}

void YamlReader::error(Mark at, std::string path, std::string message) {
  diags_.push_back({file_, at, std::move(path), std::move(message)});
}

std::string YamlReader::describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  std::string s = n.Scalar();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return "'" + s + "'";
}

bool YamlReader::scalar(const YAML::Node& n, const std::string& path, std::string_view what,
                        std::string& out) {
  if (!n.IsScalar()) {
    error(n, path, std::string(what) + ", got " + describe(n));
    return false;
  }
  out = n.Scalar();
  return true;
}

bool YamlReader::check_free_map(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) {
    error(node, path, "expected a mapping, got " + describe(node));
    return false;
  }
  std::map<std::string, int> first_line;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(key, path, "expected a plain key, got " + describe(key));
      continue;
    }
    if (it->second.IsNull()) null_keys_.emplace_back(it->second, mark_of(key));
    std::string sub = path.empty() ? key.Scalar() : path + "." + key.Scalar();
    auto [pos, inserted] = first_line.emplace(key.Scalar(), mark_of(key).line);
    if (!inserted) {
      error(key, sub, "duplicate key (first at line " + std::to_string(pos->second) + ")");
    }
  }
  return true;
}

bool YamlReader::check_map(const YAML::Node& node, const std::string& path,
                           std::initializer_list<std::string_view> allowed) {
  if (!check_free_map(node, path)) return false;
  std::vector<std::string> names(allowed.begin(), allowed.end());
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    const std::string& key = it->first.Scalar();
    if (std::find(names.begin(), names.end(), key) != names.end()) continue;
    std::string sub = path.empty() ? key : path + "." + key;
    std::string hint = closest(lower(key), names);
    error(it->first, sub, "unknown key" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  return true;
}

YAML::Node YamlReader::get(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

void YamlReader::read(const YAML::Node& map, std::string_view key, const std::string& path,
                      bool& out) {
  YAML::Node n = get(map, key);
  if (!n.IsDefined()) return;
  std::string s;
  if (!scalar(n, path, "expected true or false", s)) return;
  std::string l = lower(s);
  if (l == "true" || l == "yes" || l == "on") {
    out = true;
  } else if (l == "false" || l == "no" || l == "off") {
    out = false;
  } else {
    error(n, path, "expected true or false, got " + describe(n));
  }
}

void YamlReader::read(const YAML::Node& map, std::string_view key, const std::string& path,
                      std::string& out) {
  YAML::Node n = get(map, key);
  if (!n.IsDefined()) return;
  scalar(n, path, "expected a string", out);
}

void YamlReader::read(const YAML::Node& map, std::string_view key, const std::string& path,
                      std::uint32_t& out, std::uint32_t min, std::uint32_t max) {
  YAML::Node n = get(map, key);
  if (!n.IsDefined()) return;
  std::string expected = "expected an integer " + std::to_string(min) + ".." + std::to_string(max);
  std::string s;
  if (!scalar(n, path, expected, s)) return;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < min || v > max) {
    error(n, path, expected + ", got " + describe(n));
    return;
  }
  out = static_cast<std::uint32_t>(v);
}

void YamlReader::read(const YAML::Node& map, std::string_view key, const std::string& path,
                      double& out, double min, double max) {
  YAML::Node n = get(map, key);
  if (!n.IsDefined()) return;
  std::string expected = "expected a number " + format_number(min) + ".." + format_number(max);
  std::string s;
  if (!scalar(n, path, expected, s)) return;
  double v = 0;
  const char* b = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  auto [end, ec] = std::from_chars(b, s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v) || v < min || v > max) {
    error(n, path, expected + ", got " + describe(n));
    return;
  }
  out = v;
}

}  // namespace loxcan::config::detail
