#pragma once
// Internal to gateway/config: typed, position-aware reading of yaml-cpp nodes that records every
// problem as a Diagnostic instead of throwing. Each getter leaves the target untouched (the
// default) when the key is absent or the value is bad.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/config/config.hpp"

namespace loxcan::config::detail {

/// Closest candidate within a small edit distance, or "" (for "did you mean 'x'?").
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  void error(const YAML::Node& at, std::string path, std::string message);
  void error(Mark at, std::string path, std::string message);
  static Mark mark_of(const YAML::Node& n);
  /// Like mark_of(), but an empty value (`key:` alone) is placed at its key.
  Mark where(const YAML::Node& n) const;

  /// True when `node` is a mapping; else reports "expected a mapping". Reports unknown keys
  /// (with did-you-mean among `allowed`) and duplicate keys.
  bool check_map(const YAML::Node& node, const std::string& path,
                 std::initializer_list<std::string_view> allowed);
  /// Same for a mapping whose keys are free-form: only duplicates (and non-scalar keys).
  bool check_free_map(const YAML::Node& node, const std::string& path);
  /// The value of `key` in a checked map (first one if duplicated), or an undefined node.
  static YAML::Node get(const YAML::Node& map, std::string_view key);

  void read(const YAML::Node& map, std::string_view key, const std::string& path, bool& out);
  void read(const YAML::Node& map, std::string_view key, const std::string& path, std::string& out);
  void read(const YAML::Node& map, std::string_view key, const std::string& path,
            std::uint32_t& out, std::uint32_t min, std::uint32_t max);
  void read(const YAML::Node& map, std::string_view key, const std::string& path, double& out,
            double min, double max);
  /// Reads one of `choices` (text -> value); reports "expected one of a, b, c".
  template <typename E>
  void read_enum(const YAML::Node& map, std::string_view key, const std::string& path, E& out,
                 std::initializer_list<std::pair<std::string_view, E>> choices);

  /// The scalar text of `n`, or reports "expected <what>" and returns false.
  bool scalar(const YAML::Node& n, const std::string& path, std::string_view what,
              std::string& out);
  static std::string describe(const YAML::Node& n);  ///< "'13G1'", "a list", "nothing"

  std::vector<Diagnostic> take() { return std::move(diags_); }
  bool ok() const { return diags_.empty(); }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<Diagnostic> diags_;
  std::vector<std::pair<YAML::Node, Mark>> null_keys_;  ///< empty values seen by check_map
};

template <typename E>
void YamlReader::read_enum(const YAML::Node& map, std::string_view key, const std::string& path,
                           E& out, std::initializer_list<std::pair<std::string_view, E>> choices) {
  YAML::Node n = get(map, key);
  if (!n.IsDefined()) return;
  std::string expected = "expected one of ";
  bool first = true;
  for (const auto& [text, value] : choices) {
    expected += (first ? "" : ", ") + std::string(text);
    first = false;
  }
  std::string s;
  if (!scalar(n, path, expected, s)) return;
  for (const auto& [text, value] : choices) {
    if (s == text) {
      out = value;
      return;
    }
  }
  error(n, path, expected + ", got " + describe(n));
}

}  // namespace loxcan::config::detail
