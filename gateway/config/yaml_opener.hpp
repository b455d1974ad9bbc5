#pragma once
// Internal to gateway/config: where an unclosed YAML construct opened. yaml-cpp reports an
// unclosed flow collection (`key: [1, 2`) or quoted scalar (`key: "abc`) where it gave up, at or
// near the end of the file; the user must look where the `[`, `{` or quote opened instead.

#include <yaml-cpp/node/node.h>

#include <optional>
#include <string_view>

#include "gateway/config/config.hpp"

namespace loxcan::config::detail {

/// An opener still open at the end of the text.
struct Opener {
  Mark at;      ///< 1-based line and byte column of the opening character
  char symbol;  ///< '[', '{', '"' or '\''
};

/// Scans `yaml` lexically (flow brackets, quoted scalars, plain scalars, comments, block scalars;
/// no tree) for what is still open at the end of the text: an open quote if any (it swallowed
/// the rest, so it is the cause), else the innermost flow collection of kind `kind` ('[' or '{';
/// '"' asks for a quote only), else nullopt.
/// Approximate by design (no tags in quotes, no multi-line plain scalars starting with a quote):
/// use it only to place an error yaml-cpp already reported.
std::optional<Opener> find_unclosed(std::string_view yaml, char kind);

/// yaml-cpp 0.7 accepts a quoted scalar that runs to the end of the file when a newline follows
/// the quote (`name: "abc` then more lines): the opening quote of such a scalar in `root`, the
/// tree yaml-cpp built from `yaml`, or nullopt.
std::optional<Opener> accepted_unclosed_quote(std::string_view yaml, const YAML::Node& root);

/// The opener kind ('[', '{', '"') a yaml-cpp error message is about, or 0 for other errors.
char unclosed_kind(std::string_view yaml_cpp_message);

}  // namespace loxcan::config::detail
