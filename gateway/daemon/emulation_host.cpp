#include "gateway/daemon/emulation_host.hpp"

#include <spdlog/spdlog.h>

namespace loxcan::daemon {

std::unique_ptr<EmulationHost> make_emulation_host(gateway::EventLoop&, const config::Config& config,
                                                   const devices::Registry&,
                                                   EmulationHost::SendFn,
                                                   EmulationHost::EventsFn) {
  for (const auto& d : config.devices) {
    if (d.mode == config::DeviceMode::emulate) {
      spdlog::get("dev")->error("{}: emulation is not wired into the daemon yet", d.name);
    }
  }
  return nullptr;
}

}  // namespace loxcan::daemon
