// `loxcan sim` (a simulated Miniserver on a bus) and `loxcan emulate` (the map's emulated devices
// on a bus, without the daemon). Thin compositions of gateway/sim, gateway/emulation and
// devices/emulation.
#include <getopt.h>
#include <spdlog/spdlog.h>
#include <sysexits.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "devices/registry.hpp"
#include "gateway/cli/cli_ports.hpp"
#include "gateway/cli/commands.hpp"
#include "gateway/config/config.hpp"
#include "gateway/emulation/runtime.hpp"
#include "gateway/loop/event_loop.hpp"
#include "gateway/sim/scenario.hpp"
#include "gateway/sim/simulator.hpp"
#include "gateway/wiring/logging.hpp"

namespace loxcan::cli {
namespace {

using emulation::Millis;
using namespace std::chrono_literals;

constexpr const char* kSimUsage =
    "usage: loxcan sim --iface IF --config FILE [--scenario FILE] [--duration S] [options]\n"
    "\n"
    "A simulated Miniserver on the bus: sends the start-up sequence, assigns NATs to the devices "
    "of\n"
    "the map FILE (the same YAML the gateway reads; every device with a `type` is in this "
    "Miniserver's\n"
    "configuration, others are parked), authenticates them, downloads configurations, sends time\n"
    "sync, Alive and pings, sets outputs and logs inputs.\n"
    "\n"
    "  -i, --iface IF            CAN interface (the Link bus), e.g. vcan0\n"
    "  -c, --config FILE         the YAML device map\n"
    "  -s, --scenario FILE       steps to run (set/expect/state/wait/restart/silence, see "
    "README);\n"
    "                            the exit status is 0 when every expectation held, 1 otherwise\n"
    "  -d, --duration S          stop after S seconds (default: at the end of the scenario, or "
    "never)\n"
    "      --auth on|off|test    override emulation.auth: on = the key file, test = the built-in "
    "TEST\n"
    "                            keys, off = no authentication (a Miniserver older than 10.3)\n"
    "      --keys FILE           override emulation.keys_file\n"
    "      --offline-timeout S   offline timeout put into device configurations (default 900)\n"
    "      --time-sync S         time sync period (default 60)\n"
    "      --alive S             Alive period (default 600)\n"
    "      --ping MS             ping every online device this often (default: no pings)\n"
    "  -v, --verbose             debug logging\n"
    "  -h, --help                this text\n"
    "\n"
    "stdout: one line per event: 'state <device> online|offline', 'input <device> <channel> "
    "<value>',\n"
    "'auth_failed <device>'; stderr: the log. Stops on SIGINT/SIGTERM.\n"
    "Example: loxcan sim --iface vcan0 --config etc/demo.yaml\n";

constexpr const char* kEmulateUsage =
    "usage: loxcan emulate --iface IF --config FILE [--scenario FILE] [--duration S] [options]\n"
    "\n"
    "Runs the emulated devices of the map FILE (mode: emulate) on one interface, without the\n"
    "daemon. Inputs are set by a scenario or by lines on stdin: 'set <device> <channel> <value>'.\n"
    "\n"
    "  -i, --iface IF            CAN interface; devices whose `interface` is another one are left "
    "out\n"
    "  -c, --config FILE         the YAML device map\n"
    "  -s, --scenario FILE       steps to run (see `loxcan sim --help`); exit status 1 on a "
    "failure\n"
    "  -d, --duration S          stop after S seconds\n"
    "      --auth on|off|test    override emulation.auth for devices that inherit it\n"
    "      --keys FILE           override emulation.keys_file\n"
    "      --state-file FILE     override emulation.state_file (Tree device IDs)\n"
    "      --legacy-alive S      legacy extensions' alive period (default 360 s + (serial & 0x3F) "
    "s)\n"
    "  -v, --verbose             debug logging\n"
    "  -h, --help                this text\n"
    "\n"
    "stdout: one line per event: 'state <device> online|parked|offline', 'output <device> "
    "<channel>\n"
    "<value>' (the Miniserver set an output), 'auth_failed <device>'; stderr: the log.\n";

enum LongOnly {
  kAuth = 256,
  kKeys,
  kOfflineTimeout,
  kTimeSync,
  kAlive,
  kPing,
  kStateFile,
  kLegacyAlive
};

struct Args {
  std::string iface, config, scenario;
  double duration = -1;
  std::optional<config::EmulationAuth> auth;
  std::optional<std::string> keys, state_file;
  double offline_timeout = emulation::kDefaultOfflineTimeoutS, time_sync = 60, alive = 600,
         legacy_alive = -1;
  long ping_ms = 0;
  bool verbose = false;
};

int usage_error(const char* verb, const std::string& what) {
  std::fprintf(stderr, "loxcan %s: %s\n(see loxcan %s --help)\n", verb, what.c_str(), verb);
  return EX_USAGE;
}

bool parse_seconds(const char* text, double& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtod(text, &end);
  return errno == 0 && end != text && *end == '\0' && out >= 0 && out <= 86400 * 365;
}

// -1 to continue, else the exit code.
int parse_args(const char* verb, const char* usage, int argc, char** argv, Args& a) {
  static const option kOptions[] = {
      {"iface", required_argument, nullptr, 'i'},
      {"config", required_argument, nullptr, 'c'},
      {"scenario", required_argument, nullptr, 's'},
      {"duration", required_argument, nullptr, 'd'},
      {"auth", required_argument, nullptr, kAuth},
      {"keys", required_argument, nullptr, kKeys},
      {"offline-timeout", required_argument, nullptr, kOfflineTimeout},
      {"time-sync", required_argument, nullptr, kTimeSync},
      {"alive", required_argument, nullptr, kAlive},
      {"ping", required_argument, nullptr, kPing},
      {"state-file", required_argument, nullptr, kStateFile},
      {"legacy-alive", required_argument, nullptr, kLegacyAlive},
      {"verbose", no_argument, nullptr, 'v'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0}};
  const bool sim = std::strcmp(verb, "sim") == 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "i:c:s:d:vh", kOptions, nullptr)) != -1) {
    auto seconds = [&](double& out, const char* name) {
      return parse_seconds(optarg, out)
                 ? -1
                 : usage_error(verb,
                               std::string(name) + ": expected seconds, got '" + optarg + "'");
    };
    int rc = -1;
    switch (c) {
      case 'i': a.iface = optarg; break;
      case 'c': a.config = optarg; break;
      case 's': a.scenario = optarg; break;
      case 'd': rc = seconds(a.duration, "--duration"); break;
      case 'v': a.verbose = true; break;
      case 'h': std::fputs(usage, stdout); return 0;
      case kAuth:
        if (!std::strcmp(optarg, "on"))
          a.auth = config::EmulationAuth::on;
        else if (!std::strcmp(optarg, "off"))
          a.auth = config::EmulationAuth::off;
        else if (!std::strcmp(optarg, "test"))
          a.auth = config::EmulationAuth::test;
        else
          rc = usage_error(verb,
                           std::string("--auth: expected on, off or test, got '") + optarg + "'");
        break;
      case kKeys: a.keys = optarg; break;
      case kStateFile:
        if (sim) return usage_error(verb, "--state-file is an option of loxcan emulate");
        a.state_file = optarg;
        break;
      case kLegacyAlive:
        if (sim) return usage_error(verb, "--legacy-alive is an option of loxcan emulate");
        rc = seconds(a.legacy_alive, "--legacy-alive");
        break;
      case kOfflineTimeout:
      case kTimeSync:
      case kAlive:
      case kPing:
        if (!sim)
          return usage_error(verb, std::string(argv[optind - 1]) + " is an option of loxcan sim");
        if (c == kOfflineTimeout) rc = seconds(a.offline_timeout, "--offline-timeout");
        if (c == kTimeSync) rc = seconds(a.time_sync, "--time-sync");
        if (c == kAlive) rc = seconds(a.alive, "--alive");
        if (c == kPing) {
          double ms = 0;
          rc = parse_seconds(optarg, ms)
                   ? -1
                   : usage_error(
                         verb, std::string("--ping: expected milliseconds, got '") + optarg + "'");
          a.ping_ms = static_cast<long>(ms);
        }
        break;
      default: return usage_error(verb, "unknown option");
    }
    if (rc >= 0) return rc;
  }
  if (optind < argc)
    return usage_error(verb, std::string("unexpected argument '") + argv[optind] + "'");
  if (a.iface.empty()) return usage_error(verb, "--iface is required");
  if (a.config.empty()) return usage_error(verb, "--config is required");
  if (!parse_iface_spec(a.iface))
    return usage_error(verb, "--iface: not an interface name: '" + a.iface + "'");
  return -1;
}

void setup_logs(bool verbose) {
  wiring::LogLevels levels;
  levels.base = verbose ? spdlog::level::debug : spdlog::level::info;
  wiring::setup_logging(levels);
  if (!spdlog::get("sim")) {
    auto dev = spdlog::get("dev");
    auto sim = dev ? dev->clone("sim") : spdlog::default_logger()->clone("sim");
    spdlog::register_logger(sim);
  }
}

void print_line(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string event_line(const devices::Event& e, bool sim_side) {
  if (auto* s = std::get_if<devices::DeviceStateChanged>(&e))
    return "state " + s->device.name + " " + std::string(devices::to_string(s->to));
  if (auto* c = std::get_if<devices::ChannelChanged>(&e))
    return sim_side
               ? "input " + c->device.name + " " + c->channel + " " + devices::to_plain(c->value)
               : "";
  if (auto* c = std::get_if<devices::Command>(&e))
    return "output " + c->device.name + " " + c->channel + " " + devices::to_plain(c->value);
  if (auto* b = std::get_if<devices::BusEvent>(&e))
    return b->kind == "auth_failed" ? "auth_failed " + b->detail : "";
  return "";
}

/// Loads the map; prints every diagnostic on failure.
std::optional<config::Config> load_map(const char* verb, const std::string& path,
                                       const devices::Registry& reg) {
  try {
    return config::load_file(path, reg);
  } catch (const config::ConfigError& e) {
    for (const auto& d : e.errors())
      std::fprintf(stderr, "loxcan %s: %s\n", verb, d.to_string().c_str());
    return std::nullopt;
  }
}

class SimTarget : public sim::ScenarioTarget {
 public:
  explicit SimTarget(sim::Simulator& s) : s_(s) {}
  const devices::ChannelSpec* spec(std::string_view device,
                                   std::string_view channel) const override {
    const auto* d = s_.miniserver().find(device);
    const auto* ch = d && d->model ? d->model->find(channel) : nullptr;
    return ch ? &ch->spec : nullptr;
  }
  devices::ChannelDirection settable() const override { return devices::ChannelDirection::output; }
  std::string set(std::string_view device, std::string_view channel,
                  const devices::ChannelValue& v) override {
    const auto r = s_.miniserver().set_output(device, channel, v, s_.now());
    s_.reschedule();
    return r == emulation::SetResult::ok ? "" : std::string(emulation::to_string(r));
  }
  std::optional<devices::ChannelValue> value(std::string_view device,
                                             std::string_view channel) const override {
    return s_.miniserver().value(device, channel);
  }
  bool all_online() const override { return s_.miniserver().all_ready(); }
  std::string state(std::string_view device) const override {
    if (!s_.miniserver().find(device)) return "";
    const auto p = s_.miniserver().phase(device);
    return p == emulation::MiniserverSim::Phase::ready    ? "online"
           : p == emulation::MiniserverSim::Phase::parked ? "parked"
                                                          : "offline";
  }
  bool restart() override {
    s_.start();
    return true;
  }
  bool silence(Millis ms) override {
    s_.silence(ms);
    return true;
  }

 private:
  sim::Simulator& s_;
};

class EmulateTarget : public sim::ScenarioTarget {
 public:
  explicit EmulateTarget(emulation::Emulation& e) : e_(e) {}
  const devices::ChannelSpec* spec(std::string_view device,
                                   std::string_view channel) const override {
    auto* d = e_.find(device);
    const auto* ch = d ? d->model().find(channel) : nullptr;
    return ch ? &ch->spec : nullptr;
  }
  devices::ChannelDirection settable() const override { return devices::ChannelDirection::input; }
  std::string set(std::string_view device, std::string_view channel,
                  const devices::ChannelValue& v) override {
    auto* d = e_.find(device);
    if (!d) return "unknown device";
    return e_.set_input(d->info().serial, channel, v) ? "" : "not set (see the log)";
  }
  std::optional<devices::ChannelValue> value(std::string_view device,
                                             std::string_view channel) const override {
    auto* d = e_.find(device);
    return d ? d->value(channel) : std::nullopt;
  }
  bool all_online() const override { return e_.all_online(); }
  std::string state(std::string_view device) const override {
    auto* d = e_.find(device);
    return d ? std::string(devices::to_string(d->state())) : "";
  }

 private:
  emulation::Emulation& e_;
};

/// Runs the loop with an optional scenario and duration; returns the exit code.
int run_loop(const char* verb, gateway::EventLoop& loop, sim::ScenarioTarget& target, const Args& a,
             std::function<Millis()> now) {
  std::optional<sim::ScenarioRunner> runner;
  if (!a.scenario.empty()) {
    try {
      auto sc = sim::load_scenario(a.scenario);
      sim::check(sc, target);
      runner.emplace(std::move(sc), target, print_line);
    } catch (const sim::ScenarioError& e) {
      std::fprintf(stderr, "loxcan %s: %s\n", verb, e.what());
      return EX_DATAERR;
    }
  }
  loop.on_signal(SIGINT, [&] { loop.stop(); });
  loop.on_signal(SIGTERM, [&] { loop.stop(); });
  bool timed_out = false;
  if (a.duration >= 0)
    loop.add_timer(std::chrono::milliseconds(static_cast<long long>(a.duration * 1000)), [&] {
      timed_out = true;
      loop.stop();
    });
  if (runner) {
    loop.add_periodic(10ms, [&] {
      runner->poll(now());
      if (runner->done()) loop.stop();
    });
    loop.post([&] { runner->poll(now()); });
  }
  loop.run();
  if (!runner) return 0;
  if (!runner->done()) runner->abort(timed_out ? "--duration ran out" : "stopped");
  return runner->failures() == 0 ? 0 : 1;
}

}  // namespace

int run_sim(int argc, char** argv) {
  Args a;
  if (int rc = parse_args("sim", kSimUsage, argc, argv, a); rc >= 0) return rc;
  setup_logs(a.verbose);
  const auto reg = devices::Registry::builtin();
  auto cfg = load_map("sim", a.config, reg);
  if (!cfg) return EX_CONFIG;

  gateway::EventLoop loop;
  PortGroup ports(loop);
  auto& port = ports.add(canio::PortConfig::for_role(a.iface, canio::Role::link));
  if (int rc = ports.start_all("loxcan sim"); rc != 0) return rc;

  sim::SimulatorOptions o;
  o.auth = a.auth;
  o.keys_file = a.keys;
  o.offline_timeout_s = static_cast<std::uint32_t>(a.offline_timeout);
  o.time_sync_ms = static_cast<Millis>(a.time_sync * 1000);
  o.alive_ms = static_cast<Millis>(a.alive * 1000);
  o.ping_ms = a.ping_ms;
  std::optional<sim::Simulator> simulator;
  try {
    simulator.emplace(
        loop, *cfg, [&](const canproto::Frame& f) { port.send(f); },
        [](const devices::Event& e) {
          if (auto line = event_line(e, true); !line.empty()) print_line(line);
        },
        o);
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "loxcan sim: %s\n", e.what());
    return EX_CONFIG;
  }
  port.set_frame_handler([&](const canproto::Frame& f) { simulator->on_frame(f); });
  simulator->start();
  SimTarget target(*simulator);
  const int rc = run_loop("sim", loop, target, a, [&] { return simulator->now(); });
  ports.stop_all();
  return rc;
}

int run_emulate(int argc, char** argv) {
  Args a;
  if (int rc = parse_args("emulate", kEmulateUsage, argc, argv, a); rc >= 0) return rc;
  setup_logs(a.verbose);
  const auto reg = devices::Registry::builtin();
  auto cfg = load_map("emulate", a.config, reg);
  if (!cfg) return EX_CONFIG;

  gateway::EventLoop loop;
  PortGroup ports(loop);
  auto& port = ports.add(canio::PortConfig::for_role(a.iface, canio::Role::link));
  if (int rc = ports.start_all("loxcan emulate"); rc != 0) return rc;

  emulation::EmulationOptions o;
  o.only_iface = a.iface;
  o.auth = a.auth;
  o.keys_file = a.keys;
  o.state_file = a.state_file;
  o.legacy_alive_ms = a.legacy_alive >= 0 ? static_cast<Millis>(a.legacy_alive * 1000) : -1;
  emulation::Emulation emu(
      loop, *cfg, reg,
      [&](const std::string&, const canproto::Frame& f) {
        return port.send(f) == canio::SendStatus::queued;
      },
      [](std::vector<devices::Event>& events) {
        for (const auto& e : events)
          if (auto line = event_line(e, false); !line.empty()) print_line(line);
      },
      o);
  if (emu.devices().empty()) {
    std::fprintf(stderr, "loxcan emulate: %s has no emulated devices (mode: emulate) on %s\n",
                 a.config.c_str(), a.iface.c_str());
    return EX_CONFIG;
  }
  port.set_frame_handler([&](const canproto::Frame& f) { emu.on_frame(a.iface, f); });

  // stdin: 'set <device> <channel> <value>' lines.
  std::string pending;
  auto read_stdin = [&](std::uint32_t) {
    char buf[4096];
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
      loop.unwatch(STDIN_FILENO);
      return;
    }
    pending.append(buf, static_cast<std::size_t>(n));
    for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
      const std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      try {
        const auto step = sim::parse_step(line, "stdin");
        if (step.kind != sim::Step::Kind::set)
          throw sim::ScenarioError("stdin: only 'set <device> <channel> <value>' lines");
        const std::string err = emu.set_input_text(step.device, step.channel, step.value);
        if (!err.empty()) spdlog::get("dev")->warn("stdin: {}: {}", line, err);
      } catch (const sim::ScenarioError& e) {
        spdlog::get("dev")->warn("{}", e.what());
      }
    }
  };
  if (::isatty(STDIN_FILENO) || a.scenario.empty())
    (void)loop.watch(STDIN_FILENO, gateway::EventLoop::kReadable, read_stdin);

  emu.start();
  EmulateTarget target(emu);
  const int rc = run_loop("emulate", loop, target, a, [&] { return emu.now(); });
  emu.stop();
  ports.stop_all();
  return rc;
}

}  // namespace loxcan::cli
