#include "gateway/emulation/runtime.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <random>

#include "devices/emulation/keys.hpp"
#include "devices/serial.hpp"
#include "gateway/emulation/state_file.hpp"

namespace loxcan::emulation {
namespace {

using emulation::Millis;

std::shared_ptr<spdlog::logger> dev_log() {
  auto l = spdlog::get("dev");
  return l ? l : spdlog::default_logger();
}

spdlog::level::level_enum to_spd(emulation::LogLevel l) {
  switch (l) {
    case emulation::LogLevel::debug: return spdlog::level::debug;
    case emulation::LogLevel::info: return spdlog::level::info;
    case emulation::LogLevel::warn: return spdlog::level::warn;
    case emulation::LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::uint32_t seed() {
  std::random_device rd;
  return rd();
}

}  // namespace

struct Emulation::Bus {
  std::string iface;
  std::unique_ptr<emulation::EmulatedBus> bus;
};

// The registry is part of the EmulationHost factory's signature; the map's devices already
// carry their models.
Emulation::Emulation(gateway::EventLoop& loop, const config::Config& config,
                     const devices::Registry&, SendFn send, EventsFn events,
                     EmulationOptions options)
    : loop_(loop),
      send_(std::move(send)),
      events_(std::move(events)),
      options_(std::move(options)),
      origin_(gateway::EventLoop::now()) {
  build(config);
}

Emulation::~Emulation() {
  stop();
}

Millis Emulation::now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(gateway::EventLoop::now() - origin_)
      .count();
}

void Emulation::build(const config::Config& config) {
  auto log = dev_log();
  buses_.clear();
  std::vector<const config::DeviceConfig*> chosen;
  for (const auto& d : config.devices) {
    if (d.mode != config::DeviceMode::emulate) continue;
    const std::string iface = d.interface.empty() ? options_.only_iface : d.interface;
    if (!options_.only_iface.empty() && iface != options_.only_iface) continue;
    if (!d.model) {
      log->error("emulation: {} ({}) has no `type`: cannot emulate it", d.name,
                 devices::serial_text(d.serial));
      continue;
    }
    chosen.push_back(&d);
  }

  // Authentication: which devices need the key file, which use the TEST keys.
  const auto global = options_.auth.value_or(config.emulation.auth);
  auto effective = [&](const config::DeviceConfig& d) {
    switch (d.auth) {
      case config::DeviceAuth::on: return config::EmulationAuth::on;
      case config::DeviceAuth::off: return config::EmulationAuth::off;
      case config::DeviceAuth::test: return config::EmulationAuth::test;
      case config::DeviceAuth::inherit: break;
    }
    return global;
  };
  std::vector<std::string> need_file, use_test;
  for (const auto* d : chosen) {
    if (effective(*d) == config::EmulationAuth::on) need_file.push_back(d->name);
    if (effective(*d) == config::EmulationAuth::test) use_test.push_back(d->name);
  }
  const std::string keys_path = options_.keys_file.value_or(config.emulation.keys_file);
  std::string key_problem;
  file_keys_.reset();
  if (!need_file.empty()) {
    try {
      file_keys_ = emulation::load_key_file(keys_path);
    } catch (const emulation::KeyFileError& e) {
      key_problem = e.what();
      log->error(
          "emulation: the key file cannot be used: {}; devices that need it: {} (set "
          "emulation.keys_file to "
          "the key file extracted from your Miniserver, auth: test to play against `loxcan sim`, "
          "or auth: "
          "off for Miniservers older than 10.3)",
          key_problem, join(need_file));
    }
  }
  if (!use_test.empty())
    log->warn(
        "emulation: {} use the built-in TEST keys (auth: test): only `loxcan sim` accepts them; a "
        "real "
        "Miniserver reports 'Authorization failed'",
        join(use_test));

  // Tree device IDs: persistent in the state file.
  const std::string state_path = options_.state_file.value_or(config.emulation.state_file);
  EmulationState state;
  bool state_ok = true;
  try {
    state = load_state(state_path);
  } catch (const StateFileError& e) {
    state_ok = false;
    log->error("emulation: {}: Tree device IDs are not kept this run (fix or remove the file)",
               e.what());
  }
  std::mt19937 rng(seed());
  bool dirty = false;
  for (const auto* d : chosen) {
    if (d->model->generation != devices::Generation::tree_device ||
        state.tree_device_ids.count(d->serial))
      continue;
    emulation::DeviceId id{};
    for (auto& b : id) b = static_cast<std::uint8_t>(rng());
    state.tree_device_ids[d->serial] = id;
    dirty = true;
  }
  if (dirty && state_ok) {
    try {
      save_state(state_path, state);
    } catch (const StateFileError& e) {
      log->warn(
          "emulation: {}: new Tree device IDs are not persistent (the Miniserver caches them per "
          "serial)",
          e.what());
    }
  }

  auto bus_for = [&](const std::string& iface) -> emulation::EmulatedBus& {
    for (auto& b : buses_)
      if (b->iface == iface) return *b->bus;
    auto b = std::make_unique<Bus>();
    b->iface = iface;
    emulation::Hooks h;
    h.send = [this, iface](const canproto::Frame& f) {
      if (send_) send_(iface, f);
    };
    h.random = [r = std::make_shared<std::mt19937>(seed())] {
      return static_cast<std::uint32_t>((*r)());
    };
    h.event = [this](const devices::Event& e) {
      if (!events_) return;
      std::vector<devices::Event> v{e};
      const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
      std::visit([wall](auto& x) { x.ts_ns = wall; }, v[0]);
      events_(v);
    };
    h.log = [log](emulation::LogLevel l, const std::string& text) {
      log->log(to_spd(l), "{}", text);
    };
    b->bus = std::make_unique<emulation::EmulatedBus>(std::move(h));
    buses_.push_back(std::move(b));
    return *buses_.back()->bus;
  };

  auto setup_for = [&](const config::DeviceConfig& d) {
    emulation::DeviceSetup s;
    s.model = d.model;
    s.serial = d.serial;
    s.name = d.name;
    s.firmware = d.firmware.value_or(config.emulation.firmware);
    s.left_branch = d.branch == config::Branch::left;
    switch (effective(d)) {
      case config::EmulationAuth::on:
        s.auth.keys = file_keys_ ? &*file_keys_ : nullptr;
        s.auth.missing = "the key file cannot be used (" + key_problem + ")";
        break;
      case config::EmulationAuth::test: s.auth.keys = &emulation::test_key_set(); break;
      case config::EmulationAuth::off:
        s.auth.missing = "auth is off for this device (auth: off)";
        break;
    }
    if (auto it = state.tree_device_ids.find(d.serial); it != state.tree_device_ids.end())
      s.device_id = it->second;
    return s;
  };

  signature_.clear();
  std::map<std::uint32_t, std::pair<std::string, emulation::TreeExtension*>> trees;
  for (const auto* d : chosen) {
    if (d->model->generation == devices::Generation::tree_device) continue;
    const std::string iface = d->interface.empty() ? options_.only_iface : d->interface;
    auto& bus = bus_for(iface);
    if (d->model->special == devices::Special::tree_extension)
      trees[d->serial] = {iface, &bus.add_tree_extension(setup_for(*d))};
    else if (d->model->protocol == devices::Protocol::legacy)
      bus.add_legacy_extension(setup_for(*d), options_.legacy_alive_ms);
    else
      bus.add_nat_extension(setup_for(*d));
  }
  for (const auto* d : chosen) {
    if (d->model->generation != devices::Generation::tree_device) continue;
    auto it = d->parent ? trees.find(*d->parent) : trees.end();
    if (it == trees.end()) {
      log->error(
          "emulation: {} ({}) is a Tree device; its parent must be a Tree Extension emulated "
          "on the same "
          "interface: left out",
          d->name, devices::serial_text(d->serial));
      continue;
    }
    it->second.second->add_device(setup_for(*d));
  }
  for (const auto* d : chosen) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%08X/%s/%s/%d/%d/%u;", d->serial, d->model->name.c_str(),
                  d->interface.c_str(), static_cast<int>(d->branch),
                  static_cast<int>(effective(*d)), d->firmware.value_or(config.emulation.firmware));
    signature_ += buf + d->name + (d->parent ? std::to_string(*d->parent) : "") + '\n';
  }
  std::size_t n = 0;
  for (const auto& b : buses_) n += b->bus->all().size();
  log->info("emulation: {} device(s) on {} interface(s)", n, buses_.size());
}

void Emulation::start() {
  running_ = true;
  for (auto& b : buses_) b->bus->start(now());
  reschedule();
}

void Emulation::stop() {
  running_ = false;
  if (timer_) loop_.cancel(timer_);
  timer_ = 0;
}

void Emulation::reschedule() {
  Millis d = emulation::kNever;
  if (running_)
    for (const auto& b : buses_) d = std::min(d, b->bus->next_deadline());
  // Every frame on the interface comes here, most of them (other devices' values) change no
  // deadline: keep the armed timer instead of cancelling and adding it again per frame.
  if (timer_ && d == timer_deadline_) return;
  if (timer_) loop_.cancel(timer_);
  timer_ = 0;
  if (d == emulation::kNever) return;
  timer_deadline_ = d;
  timer_ = loop_.add_timer(std::chrono::milliseconds(std::max<Millis>(0, d - now())), [this] {
    timer_ = 0;
    tick();
  });
}

void Emulation::tick() {
  const Millis t = now();
  for (auto& b : buses_) b->bus->tick(t);
  reschedule();
}

void Emulation::on_frame(const std::string& iface, const canproto::Frame& frame,
                         gateway::EventLoop::TimePoint at) {
  if (!running_) return;
  // The caller's clock reading (once per receive batch), not one of our own per frame: in
  // User-Mode Linux every clock read is a system call, and every frame of the bus comes here.
  const Millis t = std::chrono::duration_cast<std::chrono::milliseconds>(at - origin_).count();
  for (auto& b : buses_)
    if (b->iface == iface) b->bus->on_frame(frame, t);
  reschedule();
}

bool Emulation::set_input(std::uint32_t serial, std::string_view channel,
                          const devices::ChannelValue& value) {
  const std::string key = devices::serial_text(serial);
  auto* d = find(key);
  if (!d) {
    dev_log()->warn("emulation: set {} {}: no emulated device with serial {}", key, channel, key);
    return false;
  }
  const auto r = d->set_input(channel, value, now());
  reschedule();
  if (r != emulation::SetResult::ok) {
    dev_log()->warn("emulation: set {} {} = {}: {}", d->name(), channel, devices::to_plain(value),
                    emulation::to_string(r));
    return false;
  }
  return true;
}

std::string Emulation::set_input_text(std::string_view device, std::string_view channel,
                                      std::string_view text) {
  auto* d = find(device);
  if (!d) return "unknown device '" + std::string(device) + "'";
  const auto* ch = d->model().find(channel);
  if (!ch) return d->name() + ": unknown channel '" + std::string(channel) + "'";
  auto v = emulation::parse_value(ch->spec, text);
  if (!v) return d->name() + " " + std::string(channel) + ": bad value '" + std::string(text) + "'";
  const auto r = d->set_input(channel, *v, now());
  reschedule();
  if (r != emulation::SetResult::ok)
    return d->name() + " " + std::string(channel) + ": " + std::string(emulation::to_string(r));
  return "";
}

void Emulation::apply(const config::Config& config) {
  const std::string before = signature_;
  auto saved = std::move(buses_);
  build(config);
  if (signature_ == before) {
    buses_ = std::move(saved);  // unchanged: keep every state machine as it is
    return;
  }
  dev_log()->info("emulation: the emulated devices changed: restarting them");
  if (running_) start();
}

std::vector<emulation::Emulated*> Emulation::devices() const {
  std::vector<emulation::Emulated*> out;
  for (const auto& b : buses_)
    for (auto* d : b->bus->all()) out.push_back(d);
  return out;
}

emulation::Emulated* Emulation::find(std::string_view key) const {
  for (const auto& b : buses_)
    if (auto* d = b->bus->find(key)) return d;
  return nullptr;
}

bool Emulation::all_online() const {
  for (auto* d : devices())
    if (d->state() != devices::DeviceState::online) return false;
  return true;
}

// The factory of host.hpp lives here, next to the only implementation, so host.hpp (the
// interface the daemon sees) does not include the runtime and the two do not form a circle.
std::unique_ptr<EmulationHost> make_emulation_host(gateway::EventLoop& loop,
                                                   const config::Config& config,
                                                   const devices::Registry& registry,
                                                   EmulationHost::SendFn send,
                                                   EmulationHost::EventsFn events) {
  const bool any = std::any_of(config.devices.begin(), config.devices.end(),
                               [](const auto& d) { return d.mode == config::DeviceMode::emulate; });
  if (!any) return nullptr;
  return std::make_unique<Emulation>(loop, config, registry, std::move(send), std::move(events));
}

}  // namespace loxcan::emulation
