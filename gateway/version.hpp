#pragma once

namespace loxcan {

/// The project version, e.g. "0.1.0".
const char* version();

}  // namespace loxcan
