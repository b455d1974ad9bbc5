// Golden traces: candump logs (tests/data/traces/*.log, and the captured Miniserver start-up in
// tests/data/captures/startup.log when present) -> the exact event sequence (X.events.jsonl) and
// the final inventory (X.inventory.json). LOXCAN_UPDATE_GOLDEN=1 rewrites the expected files from
// the current output; review the diff before committing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "canproto/candump.hpp"
#include "devices/format.hpp"
#include "devices/monitor.hpp"
#include "tests/devices/traces.hpp"

namespace fs = std::filesystem;
using namespace loxcan;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Output {
  std::string events;
  std::string inventory;
};

Output run(const fs::path& log) {
  static const auto registry = devices::Registry::builtin();
  devices::BusMonitor mon(registry);
  std::vector<devices::Event> events;
  std::ifstream in(log, std::ios::binary);
  canproto::LogReader reader(in);
  canproto::Frame f;
  canproto::ParseError e;
  std::int64_t last = 0;
  while (true) {
    auto s = reader.next(f, e);
    if (s == canproto::LogReader::Status::end) break;
    if (s == canproto::LogReader::Status::error) {
      ADD_FAILURE() << canproto::format_error(e, log.string());
      continue;
    }
    mon.feed(f, events);
    last = f.ts_ns;
  }
  mon.finish(last, events);
  Output o;
  for (const auto& ev : events) o.events += devices::event_json(ev) + "\n";
  o.inventory = devices::inventory_json(mon.inventory()) + "\n";
  return o;
}

void check(const fs::path& log, const std::string& stem) {
  SCOPED_TRACE(log.string());
  const fs::path dir = fs::path(TEST_DATA_DIR) / "traces";
  const fs::path ev = dir / (stem + ".events.jsonl");
  const fs::path inv = dir / (stem + ".inventory.json");
  Output o = run(log);
  if (std::getenv("LOXCAN_UPDATE_GOLDEN")) {
    std::ofstream(ev, std::ios::binary) << o.events;
    std::ofstream(inv, std::ios::binary) << o.inventory;
  }
  ASSERT_TRUE(fs::exists(ev)) << "missing " << ev << " (LOXCAN_UPDATE_GOLDEN=1 creates it)";
  EXPECT_EQ(o.events, slurp(ev));
  EXPECT_EQ(o.inventory, slurp(inv));
}

}  // namespace

TEST(GoldenTraces, CommittedLogsAreWhatTheBuilderMakes) {
  for (const auto& t : loxcan::testing::all_traces()) {
    const fs::path log = fs::path(TEST_DATA_DIR) / "traces" / (t.name + ".log");
    EXPECT_EQ(slurp(log), loxcan::testing::to_log(t)) << log << ": run make_traces to regenerate";
  }
}

TEST(GoldenTraces, StartupWithDiExtension) {
  check(fs::path(TEST_DATA_DIR) / "traces/startup_di.log", "startup_di");
}

TEST(GoldenTraces, TreeExtensionWithDevicesOnBothBranches) {
  check(fs::path(TEST_DATA_DIR) / "traces/tree.log", "tree");
}

TEST(GoldenTraces, LegacyExtensionAndRelayExtension) {
  check(fs::path(TEST_DATA_DIR) / "traces/legacy.log", "legacy");
}

TEST(GoldenTraces, CapturedMiniserverStartup) {
  const fs::path log = fs::path(TEST_DATA_DIR) / "captures/startup.log";
  if (!fs::exists(log)) GTEST_SKIP() << "no " << log;
  check(log, "captured_startup");
}
