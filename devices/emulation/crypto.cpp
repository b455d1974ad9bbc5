#include "devices/emulation/crypto.hpp"

#include <openssl/evp.h>

#include <bit>
#include <memory>
#include <string_view>

namespace loxcan::emulation {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void put_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint32_t get_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

Block16 words_to_bytes(const Words4& w) {
  Block16 out{};
  for (std::size_t i = 0; i < 4; ++i) put_le32(out.data() + 4 * i, w[i]);
  return out;
}

Words4 four_hashes(std::string_view text) {
  auto b = bytes_of(text);
  return {rs_hash(b), js_hash(b), djb_hash(b), dek_hash(b)};
}

Block16 plain_packet(std::uint32_t magic, std::uint32_t random) {
  Block16 p{};
  put_le32(p.data(), magic);
  put_le32(p.data() + 4, random);
  for (std::size_t i = 8; i < 16; ++i) p[i] = 0xA5;
  return p;
}

bool aes_cbc(const AesKeyIv& k, std::span<const std::uint8_t> in, std::span<std::uint8_t> out,
             bool encrypt) {
  if (in.empty() || in.size() % 16 != 0 || out.size() != in.size()) return false;
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free);
  if (!ctx) return false;
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, k.key.data(), k.iv.data(),
                        encrypt ? 1 : 0) != 1)
    return false;
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  int n = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &n, in.data(), static_cast<int>(in.size())) != 1)
    return false;
  int tail = 0;
  if (EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail) != 1) return false;
  return static_cast<std::size_t>(n + tail) == in.size();
}

}  // namespace

const KeySet& test_key_set() {
  static const KeySet kTest = [] {
    KeySet k;
    k.algo_key = four_hashes("loxcan TEST keys - not Loxone's / algo key");
    k.algo_iv = four_hashes("loxcan TEST keys - not Loxone's / algo iv");
    k.legacy_key = four_hashes("loxcan TEST keys - not Loxone's / legacy key");
    k.legacy_iv = four_hashes("loxcan TEST keys - not Loxone's / legacy iv");
    auto id = four_hashes("loxcan TEST keys - not Loxone's / master device id");
    for (std::size_t i = 0; i < 3; ++i) put_le32(k.master_device_id.data() + 4 * i, id[i]);
    k.test_only = true;
    return k;
  }();
  return kTest;
}

std::uint32_t rs_hash(std::span<const std::uint8_t> bytes) {
  std::uint32_t h = 0, a = 63689;
  for (auto c : bytes) {
    h = h * a + c;
    a *= 378551;
  }
  return h;
}

std::uint32_t js_hash(std::span<const std::uint8_t> bytes) {
  std::uint32_t h = 1315423911;
  for (auto c : bytes) h ^= (h << 5) + c + (h >> 2);
  return h;
}

std::uint32_t djb_hash(std::span<const std::uint8_t> bytes) {
  std::uint32_t h = 5381;
  for (auto c : bytes) h = h * 33 + c;
  return h;
}

std::uint32_t dek_hash(std::span<const std::uint8_t> bytes) {
  auto h = static_cast<std::uint32_t>(bytes.size());
  for (auto c : bytes) h = std::rotl(h, 5) ^ c;
  return h;
}

std::uint32_t bp_hash(std::span<const std::uint8_t> bytes) {
  std::uint32_t h = 0;
  for (auto c : bytes) h = (h << 7) ^ c;
  return h;
}

AesKeyIv init_schedule(const Words4& base_key, const Words4& base_iv, std::uint32_t serial) {
  Words4 key{}, iv{};
  for (std::size_t i = 0; i < 4; ++i) {
    key[i] = base_key[i] ^ ~serial;
    iv[i] = base_iv[i] ^ serial;
  }
  return {words_to_bytes(key), words_to_bytes(iv)};
}

AesKeyIv data_schedule(const DeviceId& device_id, std::uint32_t random, std::uint32_t serial) {
  std::array<std::uint8_t, 20> buf{};
  for (std::size_t i = 0; i < 12; ++i) buf[i] = device_id[i];
  put_le32(buf.data() + 12, random);
  put_le32(buf.data() + 16, serial);
  const Words4 k = {rs_hash(buf), js_hash(buf), djb_hash(buf), dek_hash(buf)};
  auto xored = buf;
  for (auto& c : xored) c ^= 0xA5;
  const std::uint32_t s = rs_hash(xored);
  Words4 key{};
  for (std::size_t i = 0; i < 4; ++i) key[i] = k[i] ^ s;
  return {words_to_bytes(key), words_to_bytes({s, s, s, s})};
}

bool aes_cbc_encrypt(const AesKeyIv& k, std::span<const std::uint8_t> in,
                     std::span<std::uint8_t> out) {
  return aes_cbc(k, in, out, true);
}

bool aes_cbc_decrypt(const AesKeyIv& k, std::span<const std::uint8_t> in,
                     std::span<std::uint8_t> out) {
  return aes_cbc(k, in, out, false);
}

Block16 make_challenge(const KeySet& keys, std::uint32_t serial, std::uint32_t random) {
  Block16 out{};
  aes_cbc_encrypt(init_schedule(keys.algo_key, keys.algo_iv, serial),
                  plain_packet(kAuthMagic, random), out);
  return out;
}

bool check_challenge_reply(const DeviceId& device_id, std::uint32_t serial, std::uint32_t random,
                           std::span<const std::uint8_t> reply) {
  Block16 plain{};
  if (reply.size() != 16) return false;
  if (!aes_cbc_decrypt(data_schedule(device_id, random, serial), reply, plain)) return false;
  return get_le32(plain.data()) == kAuthMagic;
}

Block16 make_device_id_request(const KeySet& keys, std::uint32_t serial, std::uint32_t random) {
  Block16 out{};
  aes_cbc_encrypt(init_schedule(keys.legacy_key, keys.legacy_iv, serial),
                  plain_packet(kAuthMagic, random), out);
  return out;
}

std::optional<DeviceId> parse_device_id_reply(const KeySet& keys, std::uint32_t serial,
                                              std::span<const std::uint8_t> reply) {
  Block32 plain{};
  if (reply.size() != 32) return std::nullopt;
  if (!aes_cbc_decrypt(init_schedule(keys.legacy_key, keys.legacy_iv, serial), reply, plain))
    return std::nullopt;
  if (get_le32(plain.data()) != kAuthMagic) return std::nullopt;
  DeviceId id{};
  for (std::size_t i = 0; i < 12; ++i) id[i] = plain[8 + i];
  return id;
}

std::optional<std::uint32_t> open_challenge(const KeySet& keys, std::uint32_t serial,
                                            std::span<const std::uint8_t> request) {
  Block16 plain{};
  if (request.size() != 16) return std::nullopt;
  if (!aes_cbc_decrypt(init_schedule(keys.algo_key, keys.algo_iv, serial), request, plain))
    return std::nullopt;
  if (get_le32(plain.data()) != kAuthMagic) return std::nullopt;
  return get_le32(plain.data() + 4);
}

Block16 make_challenge_reply(const DeviceId& device_id, std::uint32_t serial,
                             std::uint32_t server_random, std::uint32_t new_random) {
  Block16 out{};
  aes_cbc_encrypt(data_schedule(device_id, server_random, serial),
                  plain_packet(kAuthMagic, new_random), out);
  return out;
}

std::optional<Block16> answer_challenge(const KeySet& keys, const DeviceId& device_id,
                                        std::uint32_t serial, std::span<const std::uint8_t> request,
                                        std::uint32_t new_random) {
  auto server_random = open_challenge(keys, serial, request);
  if (!server_random) return std::nullopt;
  return make_challenge_reply(device_id, serial, *server_random, new_random);
}

Block32 answer_device_id_request(const KeySet& keys, const DeviceId& device_id,
                                 std::uint32_t serial, std::span<const std::uint8_t> request,
                                 std::uint32_t new_random, bool* ok) {
  const auto sched = init_schedule(keys.legacy_key, keys.legacy_iv, serial);
  Block16 plain{};
  const bool good = request.size() == 16 && aes_cbc_decrypt(sched, request, plain) &&
                    get_le32(plain.data()) == kAuthMagic;
  if (ok) *ok = good;
  Block32 reply{};
  put_le32(reply.data(), good ? kAuthMagic : 0);
  put_le32(reply.data() + 4, new_random);
  if (good)
    for (std::size_t i = 0; i < 12; ++i) reply[8 + i] = device_id[i];
  Block32 out{};
  aes_cbc_encrypt(sched, reply, out);
  return out;
}

}  // namespace loxcan::emulation
