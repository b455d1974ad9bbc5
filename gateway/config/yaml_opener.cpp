#include "gateway/config/yaml_opener.hpp"

#include <yaml-cpp/yaml.h>

#include <vector>

namespace loxcan::config::detail {
namespace {

bool blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}
bool flow_indicator(char c) {
  return c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
}

// A single pass over the text that tracks only what can stay open: flow collections (a stack)
// and one quoted scalar. Everything else is skipped token by token.
class OpenerScanner {
 public:
  explicit OpenerScanner(std::string_view text) : text_(text) {}

  /// The openers still open at the end, outermost first (an open quote is always last).
  std::vector<Opener> run() {
    while (!at_end()) step();
    return open_;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::size_t line_start_ = 0;
  std::vector<Opener> open_;

  bool at_end() const { return pos_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  Mark mark() const { return {line_, static_cast<int>(pos_ - line_start_) + 1}; }
  bool in_flow() const { return !open_.empty(); }
  bool after_blank() const { return pos_ == 0 || blank(text_[pos_ - 1]); }
  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }
  void skip_to_eol() {
    while (!at_end() && peek() != '\n') advance();
  }

  // One token (or one blank) at a position where a token may start.
  void step() {
    const char c = peek();
    const char next = peek(1);
    if (blank(c)) {
      advance();
    } else if (c == '#' && after_blank()) {
      skip_to_eol();
    } else if (c == '"' || c == '\'') {
      quoted(c);
    } else if (c == '[' || c == '{') {
      open_.push_back({mark(), c});
      advance();
    } else if (c == ']' || c == '}') {
      if (!open_.empty()) open_.pop_back();  // a mismatch is yaml-cpp's to report
      advance();
    } else if (c == ',' && in_flow()) {
      advance();
    } else if ((c == '-' || c == '?' || c == ':') &&
               (blank(next) || (in_flow() && flow_indicator(next)))) {
      advance();
    } else if ((c == '|' || c == '>') && !in_flow()) {
      block_scalar();
    } else if (c == '&' || c == '*' || c == '!') {
      while (!at_end() && !blank(peek()) && !(in_flow() && flow_indicator(peek()))) advance();
    } else {
      plain();
    }
  }

  // A quoted scalar may span lines; an unclosed one swallows the rest of the text.
  void quoted(char quote) {
    const Opener opener{mark(), quote};
    advance();
    while (!at_end()) {
      const char c = peek();
      if (quote == '"' && c == '\\') {
        advance();
        if (!at_end()) advance();
      } else if (c == quote && quote == '\'' && peek(1) == '\'') {
        advance();
        advance();
      } else if (c == quote) {
        advance();
        return;
      } else {
        advance();
      }
    }
    open_.push_back(opener);
  }

  // A plain scalar ends at ": ", " #", the line end, or (in a flow collection) a flow indicator.
  // Quotes and brackets inside it are text. The first character is always part of it.
  void plain() {
    advance();
    while (!at_end()) {
      const char c = peek();
      const char next = peek(1);
      if (c == '\n') return;
      if (c == ':' && (blank(next) || (in_flow() && flow_indicator(next)))) return;
      if ((c == ' ' || c == '\t') && next == '#') return;
      if (in_flow() && flow_indicator(c)) return;
      advance();
    }
  }

  // `|` or `>`: the header line, then every blank line or line indented deeper than the line of
  // the indicator is scalar text.
  void block_scalar() {
    std::size_t indent = 0;
    while (line_start_ + indent < text_.size() && text_[line_start_ + indent] == ' ') ++indent;
    skip_to_eol();
    while (!at_end()) {
      advance();  // the '\n'
      std::size_t i = pos_;
      while (i < text_.size() && text_[i] == ' ') ++i;
      const bool blank_line = i >= text_.size() || text_[i] == '\n' || text_[i] == '\r';
      if (!blank_line && i - pos_ <= indent) return;
      skip_to_eol();
    }
  }
};

}  // namespace

std::optional<Opener> find_unclosed(std::string_view yaml, char kind) {
  const std::vector<Opener> open = OpenerScanner(yaml).run();
  if (open.empty()) return std::nullopt;
  const auto is_quote = [](const Opener& o) { return o.symbol == '"' || o.symbol == '\''; };
  // An open quote swallows the rest of the text: whatever yaml-cpp then missed, it is the cause.
  if (is_quote(open.back())) return open.back();
  if (kind == '"') return std::nullopt;
  for (auto it = open.rbegin(); it != open.rend(); ++it) {
    if (it->symbol == kind) return *it;
  }
  return std::nullopt;
}

namespace {

// True when some scalar node in `n` (keys included) starts at `at`. Depth-bounded: the tree
// comes from untrusted text.
bool has_scalar_at(const YAML::Node& n, Mark at, int depth = 0) {
  if (depth > 200 || !n.IsDefined()) return false;
  if (n.IsScalar()) return n.Mark().line + 1 == at.line && n.Mark().column + 1 == at.column;
  if (n.IsSequence()) {
    for (const auto& item : n) {
      if (has_scalar_at(item, at, depth + 1)) return true;
    }
  } else if (n.IsMap()) {
    for (const auto& kv : n) {
      if (has_scalar_at(kv.first, at, depth + 1) || has_scalar_at(kv.second, at, depth + 1))
        return true;
    }
  }
  return false;
}

}  // namespace

std::optional<Opener> accepted_unclosed_quote(std::string_view yaml, const YAML::Node& root) {
  const auto opener = find_unclosed(yaml, '"');
  // yaml-cpp began a scalar at the quote (so it was a quoted scalar, not text inside something
  // else), and the scanner found no closing quote after it: the value ran to the end of the file.
  if (opener && has_scalar_at(root, opener->at)) return opener;
  return std::nullopt;
}

char unclosed_kind(std::string_view message) {
  if (message == YAML::ErrorMsg::END_OF_SEQ_FLOW) return '[';
  if (message == YAML::ErrorMsg::END_OF_MAP_FLOW) return '{';
  if (message == YAML::ErrorMsg::EOF_IN_SCALAR || message == YAML::ErrorMsg::DOC_IN_SCALAR)
    return '"';
  return 0;
}

}  // namespace loxcan::config::detail
