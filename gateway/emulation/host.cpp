#include "gateway/daemon/emulation_host.hpp"

#include <algorithm>

#include "gateway/sim/emulation.hpp"

namespace loxcan::daemon {

std::unique_ptr<EmulationHost> make_emulation_host(gateway::EventLoop& loop,
                                                   const config::Config& config,
                                                   const devices::Registry& registry,
                                                   EmulationHost::SendFn send,
                                                   EmulationHost::EventsFn events) {
  const bool any = std::any_of(config.devices.begin(), config.devices.end(), [](const auto& d) {
    return d.mode == config::DeviceMode::emulate;
  });
  if (!any) return nullptr;
  return std::make_unique<sim::Emulation>(loop, config, registry, std::move(send),
                                          std::move(events));
}

}  // namespace loxcan::daemon
