// Kernel frames as the bus delivers them (any bytes): conversion to canproto::Frame, error-frame
// decoding and description, and the round trip back to the kernel layout must never crash and
// must keep the content. Input: a sequence of [1 byte: FD?][72 bytes: struct canfd_frame].
#include <linux/can.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "gateway/canio/error_frame.hpp"
#include "gateway/canio/raw_socket.hpp"
#include "gateway/canio/stats.hpp"
#include "gateway/cli/cli_ports.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace loxcan;
  constexpr std::size_t kRecord = 1 + sizeof(canfd_frame);
  for (std::size_t off = 0; off + kRecord <= size; off += kRecord) {
    const bool is_fd = data[off] & 1;
    canfd_frame k;
    std::memcpy(&k, data + off + 1, sizeof k);
    const canproto::Frame f = canio::from_kernel(k, is_fd);
    (void)canio::frame_bits(f);
    if (f.error) {
      const auto info = canio::decode_error_frame(f);
      const std::string text = canio::describe(info);
      if (info.classes != 0 && text.empty()) std::abort();
    }
    canfd_frame back;
    const std::size_t n = canio::to_kernel(f, back);
    if (n == 0) std::abort();  // from_kernel clamps the length, so it is always representable
    if (!canproto::same_content(f, canio::from_kernel(back, is_fd))) std::abort();
  }
  // The rest of the input as an --iface value.
  const std::string_view text(reinterpret_cast<const char*>(data), size % 64);
  if (auto spec = cli::parse_iface_spec(text);
      spec && (spec->name.empty() || spec->name.size() > 15))
    std::abort();
  return 0;
}
