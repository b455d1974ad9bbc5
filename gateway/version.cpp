#include "gateway/version.hpp"

namespace loxcan {

const char* version() {
  return LOXCAN_VERSION;
}

}  // namespace loxcan
