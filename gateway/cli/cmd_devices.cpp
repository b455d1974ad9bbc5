// `loxcan devices [--json] [--events] [--config FILE] [--bus link|tree] [--lenient] [FILE|-]`:
// the bus inventory at the end of a capture; `loxcan devices --models`: the supported devices.
#include <getopt.h>
#include <sysexits.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string_view>

#include "canproto/candump.hpp"
#include "devices/format.hpp"
#include "devices/monitor.hpp"
#include "gateway/cli/commands.hpp"
#include "gateway/cli/device_events.hpp"
#include "gateway/config/config.hpp"

namespace loxcan::cli {
namespace {

namespace cp = loxcan::canproto;

constexpr const char* kUsage =
    "usage: loxcan devices [--json] [--events] [--config FILE] [--bus link|tree] [--lenient] "
    "[FILE|-]\n"
    "       loxcan devices --models\n\n"
    "Reads a candump log (FILE, or standard input) and prints every device seen on the bus at the\n"
    "end of it: serial, type, generation, name, state, NAT, parent Tree Extension and branch,\n"
    "firmware, config CRC, last seen, and the last value of every channel.\n\n"
    "  --json         the inventory as JSON (with --events: the events as JSON lines)\n"
    "  --events       print the typed device events as they happen, instead of the inventory\n"
    "  --config FILE  take friendly device names from a loxcan.yaml device map\n"
    "  --bus BUS      link (default) or tree: the bus the capture was taken on\n"
    "  --lenient      accept what canplayer accepts\n"
    "  --models       list the supported device models and their channels\n\n"
    "Exit status: 0, 64 bad arguments, 65 unparsable lines (skipped, reported on stderr),\n"
    "66 input missing, 78 bad --config file.\n";

struct Run {
  explicit Run(const DeviceEventOptions& o) : opt(o) {}
  const DeviceEventOptions& opt;
  devices::Registry registry = devices::Registry::builtin();
  std::optional<devices::BusMonitor> monitor;
  std::uint64_t parse_errors = 0;
  std::int64_t last_ts = 0;
};

// Sets up the monitor; applies the YAML map's names. Returns an exit code, 0 = go on.
int prepare(Run& run) {
  run.monitor.emplace(run.registry);
  if (run.opt.tree) run.monitor->set_bus("", cp::Bus::tree);
  if (run.opt.config.empty()) return 0;
  try {
    config::Config c = config::load_file(run.opt.config, run.registry);
    for (const auto& d : c.devices) run.monitor->inventory().set_name(d.serial, d.name);
  } catch (const config::ConfigError& e) {
    for (const auto& d : e.errors()) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return EX_CONFIG;
  }
  return 0;
}

// Feeds every frame of the input; `each` gets the events of each frame. Returns an exit code.
template <class Each>
int replay(Run& run, Each&& each) {
  std::ifstream file;
  std::istream* in = &std::cin;
  std::string name = "<stdin>";
  if (run.opt.input != "-") {
    file.open(run.opt.input, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "%s: cannot open %s: %s\n", run.opt.verb, run.opt.input.c_str(),
                   std::strerror(errno));
      return EX_NOINPUT;
    }
    in = &file;
    name = run.opt.input;
  }
  cp::LogReader reader(*in, cp::ParseOptions{run.opt.lenient, true});
  cp::Frame f;
  cp::ParseError e;
  std::vector<devices::Event> events;
  while (true) {
    auto s = reader.next(f, e);
    if (s == cp::LogReader::Status::end) break;
    if (s == cp::LogReader::Status::error) {
      ++run.parse_errors;
      std::fflush(stdout);
      std::fprintf(stderr, "%s: %s\n", run.opt.verb, cp::format_error(e, name).c_str());
      continue;
    }
    if (run.opt.tree) run.monitor->set_bus(std::string(f.iface.view()), cp::Bus::tree);
    events.clear();
    run.monitor->feed(f, events);
    run.last_ts = f.ts_ns;
    each(events);
  }
  events.clear();
  run.monitor->finish(run.last_ts, events);
  each(events);
  return 0;
}

int finish(const Run& run) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "%s: write error on standard output\n", run.opt.verb);
    return EX_IOERR;
  }
  return run.parse_errors == 0 ? 0 : EX_DATAERR;
}

int parse_options(int argc, char** argv, DeviceEventOptions& opt, bool& events, bool& models) {
  static const option kLong[] = {
      {"json", no_argument, nullptr, 'j'},         {"events", no_argument, nullptr, 'e'},
      {"config", required_argument, nullptr, 'c'}, {"bus", required_argument, nullptr, 'b'},
      {"lenient", no_argument, nullptr, 'l'},      {"models", no_argument, nullptr, 'm'},
      {"help", no_argument, nullptr, 'h'},         {nullptr, 0, nullptr, 0}};
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "jec:b:lmh", kLong, nullptr)) != -1;) {
    switch (c) {
      case 'j': opt.json = true; break;
      case 'e': events = true; break;
      case 'c': opt.config = optarg; break;
      case 'l': opt.lenient = true; break;
      case 'm': models = true; break;
      case 'b':
        if (std::string_view(optarg) != "link" && std::string_view(optarg) != "tree") {
          std::fprintf(stderr, "loxcan devices: --bus must be 'link' or 'tree', not '%s'\n",
                       optarg);
          return EX_USAGE;
        }
        opt.tree = std::string_view(optarg) == "tree";
        break;
      case 'h': std::fputs(kUsage, stdout); return -1;
      default: std::fputs(kUsage, stderr); return EX_USAGE;
    }
  }
  if (argc - optind > 1) {
    std::fprintf(stderr, "loxcan devices: at most one input file\n");
    return EX_USAGE;
  }
  if (optind < argc) opt.input = argv[optind];
  return 0;
}

}  // namespace

int print_device_events(const DeviceEventOptions& options) {
  Run run(options);
  if (int rc = prepare(run); rc != 0) return rc;
  int rc = replay(run, [&](const std::vector<devices::Event>& events) {
    for (const auto& ev : events) {
      const std::string line = options.json ? devices::event_json(ev) : devices::format_event(ev);
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    }
  });
  return rc != 0 ? rc : finish(run);
}

int run_devices(int argc, char** argv) {
  DeviceEventOptions opt;
  opt.verb = "loxcan devices";
  bool events = false, models = false;
  if (int rc = parse_options(argc, argv, opt, events, models); rc != 0) return rc < 0 ? 0 : rc;
  if (models) {
    std::fputs(devices::models_table(devices::Registry::builtin()).c_str(), stdout);
    return 0;
  }
  if (events) return print_device_events(opt);
  Run run(opt);
  if (int rc = prepare(run); rc != 0) return rc;
  if (int rc = replay(run, [](const std::vector<devices::Event>&) {}); rc != 0) return rc;
  const std::string text = opt.json ? devices::inventory_json(run.monitor->inventory()) + "\n"
                                    : devices::inventory_table(run.monitor->inventory());
  std::fwrite(text.data(), 1, text.size(), stdout);
  return finish(run);
}

}  // namespace loxcan::cli
