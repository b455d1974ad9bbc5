#include "gateway/sim/simulator.hpp"

#include <spdlog/spdlog.h>

#include <ctime>
#include <random>
#include <stdexcept>

#include "devices/emulation/keys.hpp"

namespace loxcan::sim {
namespace {

using emulation::Millis;

std::pair<std::uint32_t, std::uint32_t> local_time_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  const auto ms_total =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::uint32_t ms = static_cast<std::uint32_t>(
      ((tm.tm_hour * 60 + tm.tm_min) * 60 + tm.tm_sec) * 1000 + ms_total % 1000);
  return {emulation::pack_date(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday), ms};
}

}  // namespace

Simulator::Simulator(gateway::EventLoop& loop, const config::Config& config, SendFn send,
                     EventFn event, SimulatorOptions options)
    : loop_(loop),
      send_(std::move(send)),
      event_(std::move(event)),
      origin_(gateway::EventLoop::now()) {
  for (const auto& d : config.devices) {
    if (!d.model) continue;
    emulation::SimDevice s{d.model, d.serial, d.name, "", d.branch == config::Branch::left};
    if (d.parent)
      if (const auto* p = config.find_device(*d.parent)) s.parent = p->name;
    devices_.push_back(std::move(s));
  }
  const auto auth = options.auth.value_or(config.emulation.auth);
  if (auth == config::EmulationAuth::test) {
    keys_ = emulation::test_key_set();
  } else if (auth == config::EmulationAuth::on) {
    const std::string path = options.keys_file.value_or(config.emulation.keys_file);
    try {
      keys_ = emulation::load_key_file(path);
    } catch (const emulation::KeyFileError& e) {
      throw std::runtime_error(
          std::string(e.what()) +
          " (the simulated Miniserver authenticates devices with it; use --auth test or "
          "--auth off to run without one)");
    }
  }
  options_.keys = keys_ ? &*keys_ : nullptr;
  options_.offline_timeout_s = options.offline_timeout_s;
  options_.time_sync_ms = options.time_sync_ms;
  options_.alive_ms = options.alive_ms;
  options_.ping_ms = options.ping_ms;
  options_.local_time = local_time_now;
  sim_ = make();
}

Simulator::~Simulator() {
  if (timer_) loop_.cancel(timer_);
}

std::unique_ptr<emulation::MiniserverSim> Simulator::make() {
  auto log = spdlog::get("sim");
  if (!log) log = spdlog::default_logger();
  emulation::Hooks h;
  h.send = [this](const canproto::Frame& f) {
    if (now() >= silent_until_ && send_) send_(f);
  };
  h.random = [r = std::make_shared<std::mt19937>(std::random_device{}())] {
    return static_cast<std::uint32_t>((*r)());
  };
  h.event = [this](const devices::Event& e) {
    if (event_) event_(e);
  };
  h.log = [log](emulation::LogLevel l, const std::string& text) {
    const auto level = l == emulation::LogLevel::debug  ? spdlog::level::debug
                       : l == emulation::LogLevel::info ? spdlog::level::info
                       : l == emulation::LogLevel::warn ? spdlog::level::warn
                                                        : spdlog::level::err;
    log->log(level, "{}", text);
  };
  return std::make_unique<emulation::MiniserverSim>(devices_, options_, std::move(h));
}

Millis Simulator::now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(gateway::EventLoop::now() - origin_)
      .count();
}

void Simulator::start() {
  sim_ = make();
  sim_->start(now());
  reschedule();
}

void Simulator::silence(Millis ms) {
  silent_until_ = now() + ms;
  if (auto l = spdlog::get("sim")) l->info("Miniserver silent for {} ms", ms);
}

void Simulator::on_frame(const canproto::Frame& frame) {
  if (now() < silent_until_) return;
  sim_->on_frame(frame, now());
  reschedule();
}

void Simulator::reschedule() {
  if (timer_) loop_.cancel(timer_);
  timer_ = 0;
  const Millis d = sim_->next_deadline();
  if (d == emulation::kNever) return;
  timer_ = loop_.add_timer(std::chrono::milliseconds(std::max<Millis>(0, d - now())), [this] {
    timer_ = 0;
    tick();
  });
}

void Simulator::tick() {
  sim_->tick(now());
  reschedule();
}

}  // namespace loxcan::sim
