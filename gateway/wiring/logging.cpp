#include "gateway/wiring/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

namespace loxcan::wiring {

bool stderr_is_journal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(2, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

namespace {

// Journal lines: a syslog priority prefix (sd-daemon.h SD_* style) instead of a timestamp.
class JournalPrefixFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    static constexpr const char* kPrefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", ""};
    const char* prefix = kPrefix[static_cast<int>(msg.level)];
    dest.append(prefix, prefix + std::char_traits<char>::length(prefix));
    const auto name = msg.logger_name;
    dest.push_back('[');
    dest.append(name.data(), name.data() + name.size());
    dest.append(std::string_view("] "));
    dest.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
    dest.push_back('\n');
  }
  std::unique_ptr<formatter> clone() const override {
    return std::make_unique<JournalPrefixFormatter>();
  }
};

std::shared_ptr<spdlog::logger> logger_for(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto logger =
      std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace

void setup_logging(const LogLevels& levels) {
  const bool journal = stderr_is_journal();
  for (const char* name : kSubsystems) {
    auto logger = logger_for(name);
    if (journal) {
      logger->set_formatter(std::make_unique<JournalPrefixFormatter>());
    } else {
      logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
    }
    auto it = levels.per_subsystem.find(name);
    logger->set_level(it != levels.per_subsystem.end() ? it->second : levels.base);
    // Errors must reach the journal at once; info lines may wait for the next flush.
    logger->flush_on(spdlog::level::warn);
  }
}

bool parse_level(const std::string& text, spdlog::level::level_enum& out) {
  static const std::pair<const char*, spdlog::level::level_enum> kNames[] = {
      {"trace", spdlog::level::trace},       {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},         {"warning", spdlog::level::warn},
      {"warn", spdlog::level::warn},         {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
  for (const auto& [name, level] : kNames) {
    if (text == name) {
      out = level;
      return true;
    }
  }
  return false;
}

}  // namespace loxcan::wiring
