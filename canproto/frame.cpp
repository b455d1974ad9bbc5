#include "canproto/frame.hpp"

#include <algorithm>
#include <cstring>

namespace loxcan::canproto {

IfaceName::IfaceName(std::string_view name) {
  size_ = static_cast<std::uint8_t>(std::min(name.size(), kMaxIfaceName));
  std::memcpy(chars_.data(), name.data(), size_);
}

bool same_content(const Frame& a, const Frame& b) {
  return a.id == b.id && a.extended == b.extended && a.rtr == b.rtr && a.error == b.error &&
         a.fd == b.fd && a.fd_flags == b.fd_flags && a.len == b.len && a.len8_dlc == b.len8_dlc &&
         std::equal(a.data.begin(), a.data.begin() + a.len, b.data.begin());
}

}  // namespace loxcan::canproto
