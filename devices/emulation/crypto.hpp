#pragma once
// Loxone CAN authentication (LOXONE_CAN.md section 7): hash functions, key schedules, AES-128-CBC
// and the challenge / device-ID packets, for both sides (emulated device and simulated Miniserver).
//
// Pure: no I/O, no clock, no randomness of its own (random words are passed in). AES runs through
// OpenSSL's EVP interface. The secret constants are never compiled in: they come in a KeySet
// (keys.hpp), loaded from the owner's key file or the built-in *test* set that only `loxcan sim`
// accepts.
//
// Packets (all little-endian words):
//   challenge request 0x9C / reply 0x9D: 16 bytes = [0xDEADBEEF, random, 8 x 0xA5]
//   device-ID request 0x99: 16 bytes as above; reply 0x98: 32 bytes =
//     [0xDEADBEEF, random, 12-byte device ID, 12 x 0x00]   (bad request: magic 0)
// Schedules:
//   init  : key[i] = K[i] ^ ~serial, iv[i] = IV[i] ^ serial          (K/IV: CanAlgo or Legacy)
//   data  : buf = device_id(12) | random(LE) | serial(LE);
//           k = [RS, JS, DJB, DEK](buf); s = RS(buf ^ 0xA5 bytewise); key[i] = k[i] ^ s, iv = s x4
//
// Example (see tests/emulation/crypto_test.cpp): rs_hash("a") == 97, djb_hash("a") == 177670.

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace loxcan::emulation {

using Words4 = std::array<std::uint32_t, 4>;
using DeviceId = std::array<std::uint8_t, 12>;
using Block16 = std::array<std::uint8_t, 16>;
using Block32 = std::array<std::uint8_t, 32>;

inline constexpr std::uint32_t kAuthMagic = 0xDEADBEEF;

/// The five secret constants (section 7.1). `test_only` marks the built-in demo/test set.
struct KeySet {
  Words4 algo_key{};
  Words4 algo_iv{};
  Words4 legacy_key{};
  Words4 legacy_iv{};
  DeviceId master_device_id{};
  bool test_only = false;
  friend bool operator==(const KeySet&, const KeySet&) = default;
};

/// The built-in test key set. Its values are derived from the text "loxcan TEST keys - not
/// Loxone's" and have nothing to do with the real constants: a real Miniserver rejects them,
/// `loxcan sim` accepts them when its configuration says `auth: test`.
const KeySet& test_key_set();

// Hash functions of section 7.1 (32-bit arithmetic, bytes in order).
std::uint32_t rs_hash(std::span<const std::uint8_t> bytes);
std::uint32_t js_hash(std::span<const std::uint8_t> bytes);
std::uint32_t djb_hash(std::span<const std::uint8_t> bytes);
std::uint32_t dek_hash(std::span<const std::uint8_t> bytes);
std::uint32_t bp_hash(std::span<const std::uint8_t> bytes);

/// AES-128 key and IV as bytes (each word little-endian).
struct AesKeyIv {
  Block16 key{};
  Block16 iv{};
};

/// Init-packet schedule for `serial` from a base key/IV pair (CanAlgo for 0x9C, Legacy for
/// 0x99/0x98).
AesKeyIv init_schedule(const Words4& base_key, const Words4& base_iv, std::uint32_t serial);

/// Data-packet schedule (challenge reply 0x9D) from the device ID, the server's random and serial.
AesKeyIv data_schedule(const DeviceId& device_id, std::uint32_t random, std::uint32_t serial);

/// AES-128-CBC without padding. `in.size()` must be a non-zero multiple of 16 and equal to
/// `out.size()`; returns false otherwise (or if OpenSSL fails).
bool aes_cbc_encrypt(const AesKeyIv& k, std::span<const std::uint8_t> in,
                     std::span<std::uint8_t> out);
bool aes_cbc_decrypt(const AesKeyIv& k, std::span<const std::uint8_t> in,
                     std::span<std::uint8_t> out);

// ---- Miniserver side -------------------------------------------------------------------------

/// 0x9C payload challenging `serial` with `random`.
Block16 make_challenge(const KeySet& keys, std::uint32_t serial, std::uint32_t random);
/// True when a 0x9D reply decrypts (data schedule for device_id/random/serial) to the magic.
bool check_challenge_reply(const DeviceId& device_id, std::uint32_t serial, std::uint32_t random,
                           std::span<const std::uint8_t> reply);
/// 0x99 payload asking Tree device `serial` for its device ID.
Block16 make_device_id_request(const KeySet& keys, std::uint32_t serial, std::uint32_t random);
/// The device ID from a 0x98 reply, or nullopt when it does not decrypt to the magic.
std::optional<DeviceId> parse_device_id_reply(const KeySet& keys, std::uint32_t serial,
                                              std::span<const std::uint8_t> reply);

// ---- device side -----------------------------------------------------------------------------

/// 0x9D answer to a 0x9C request, or nullopt when the request does not decrypt to the magic
/// (wrong keys on one of the two sides). `new_random` goes into the reply.
std::optional<Block16> answer_challenge(const KeySet& keys, const DeviceId& device_id,
                                        std::uint32_t serial, std::span<const std::uint8_t> request,
                                        std::uint32_t new_random);
/// 0x9D payload for a known server random (the answer to a server's own 0x9D re-validation).
Block16 make_challenge_reply(const DeviceId& device_id, std::uint32_t serial,
                             std::uint32_t server_random, std::uint32_t new_random);
/// The server random inside a 0x9C request, or nullopt when it does not decrypt to the magic.
std::optional<std::uint32_t> open_challenge(const KeySet& keys, std::uint32_t serial,
                                            std::span<const std::uint8_t> request);
/// 0x98 answer to a 0x99 request. A request that does not decrypt gets the "bad request"
/// answer (magic 0) and `ok` false.
Block32 answer_device_id_request(const KeySet& keys, const DeviceId& device_id,
                                 std::uint32_t serial, std::span<const std::uint8_t> request,
                                 std::uint32_t new_random, bool* ok = nullptr);

}  // namespace loxcan::emulation
