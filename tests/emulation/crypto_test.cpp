// Crypto of LOXONE_CAN.md section 7 against independently computed values:
// hashes by hand and by tests/data/emulation/crypto_vectors.py (a separate Python implementation
// using the `cryptography` package), AES-CBC against the `openssl enc` command line tool.
#include "devices/emulation/crypto.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace loxcan::emulation {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

std::string hex(std::span<const std::uint8_t> b) {
  std::string out;
  char buf[3];
  for (auto c : b) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

KeySet vector_keys() {
  KeySet k;
  k.algo_key = {0x01234567, 0x89ABCDEF, 0xFEDCBA98, 0x76543210};
  k.algo_iv = {0x11111111, 0x22222222, 0x33333333, 0x44444444};
  k.legacy_key = {0xA0A0A0A0, 0x0B0B0B0B, 0xC0C0C0C0, 0x0D0D0D0D};
  k.legacy_iv = {0x13579BDF, 0x2468ACE0, 0x0F1E2D3C, 0x4B5A6978};
  for (std::uint8_t i = 0; i < 12; ++i) k.master_device_id[i] = i;
  return k;
}

struct HashRow {
  const char* input;
  std::uint32_t rs, js, djb, dek, bp;
};

TEST(Crypto, HashFunctions) {
  // "a" and "ab" by hand: DJB a = 5381*33+97 = 177670; DEK ab: h=2, rotl5 = 64 ^ 'a' = 33,
  // rotl5 = 1056 ^ 'b' = 0x442; BP ab = (97 << 7) ^ 98 = 12514; RS a = 97; JS "" = its seed.
  const HashRow rows[] = {
      {"", 0x0, 0x4e67c6a7, 0x1505, 0x0, 0x0},
      {"a", 0x61, 0xaef5004d, 0x2b606, 0x41, 0x61},
      {"ab", 0x80e76fb1, 0xa4a84a58, 0x597728, 0x442, 0x30e2},
      {"123456789", 0x704952e9, 0x90a4224b, 0x35cdbb82, 0xab4acba5, 0x56cddc39},
  };
  for (const auto& r : rows) {
    auto b = bytes(r.input);
    EXPECT_EQ(rs_hash(b), r.rs) << "RS '" << r.input << "'";
    EXPECT_EQ(js_hash(b), r.js) << "JS '" << r.input << "'";
    EXPECT_EQ(djb_hash(b), r.djb) << "DJB '" << r.input << "'";
    EXPECT_EQ(dek_hash(b), r.dek) << "DEK '" << r.input << "'";
    EXPECT_EQ(bp_hash(b), r.bp) << "BP '" << r.input << "'";
  }
}

TEST(Crypto, Schedules) {
  const auto k = vector_keys();
  auto init = init_schedule(k.algo_key, k.algo_iv, 0x14123456);
  EXPECT_EQ(hex(init.key), "ce8eceea4606466231713115b9f9b99d");
  EXPECT_EQ(hex(init.iv), "47250305741630366507212712705650");
  auto data = data_schedule(k.master_device_id, 0x12345678, 0x14123456);
  EXPECT_EQ(hex(data.key), "f82334a29ebc88e80faa498b09372041");
  EXPECT_EQ(hex(data.iv), "848d4dd8848d4dd8848d4dd8848d4dd8");
}

TEST(Crypto, ChallengeVectors) {
  const auto k = vector_keys();
  const auto req = make_challenge(k, 0x14123456, 0x12345678);
  EXPECT_EQ(hex(req), "864a94b3c2840ea085bdcb53879640a2");
  auto reply = answer_challenge(k, k.master_device_id, 0x14123456, req, 0xCAFEBABE);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(hex(*reply), "ed9ffd7063d28f5ba813f2bd05f29f31");
  EXPECT_TRUE(check_challenge_reply(k.master_device_id, 0x14123456, 0x12345678, *reply));
  // Wrong random, serial or device id: the reply does not verify.
  EXPECT_FALSE(check_challenge_reply(k.master_device_id, 0x14123456, 0x12345679, *reply));
  EXPECT_FALSE(check_challenge_reply(k.master_device_id, 0x14123457, 0x12345678, *reply));
  DeviceId other = k.master_device_id;
  other[11] ^= 1;
  EXPECT_FALSE(check_challenge_reply(other, 0x14123456, 0x12345678, *reply));
}

TEST(Crypto, WrongKeysRejectChallenge) {
  const auto k = vector_keys();
  auto wrong = k;
  wrong.algo_key[2] ^= 0x100;
  const auto req = make_challenge(k, 0x14123456, 0x12345678);
  EXPECT_FALSE(answer_challenge(wrong, k.master_device_id, 0x14123456, req, 1).has_value());
  EXPECT_FALSE(answer_challenge(k, k.master_device_id, 0x14123457, req, 1).has_value());
  EXPECT_FALSE(answer_challenge(k, k.master_device_id, 0x14123456, std::span(req).first(8), 1));
}

TEST(Crypto, DeviceIdVectors) {
  const auto k = vector_keys();
  const DeviceId tid = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac};
  const auto req = make_device_id_request(k, 0xC0168612, 0x12345678);
  EXPECT_EQ(hex(req), "9898c6af1e55ec9018cdc1bbaa47a1d1");
  bool ok = false;
  const auto reply = answer_device_id_request(k, tid, 0xC0168612, req, 0xCAFEBABE, &ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(hex(reply), "ee74036b8aa0919402193f5f1781269fc56eef1f1ae79d8a9212b964d7fdc380");
  auto id = parse_device_id_reply(k, 0xC0168612, reply);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(*id, tid);
  // A request made with other keys gets the "bad request" answer, which does not parse.
  auto wrong = k;
  wrong.legacy_iv[0] ^= 1;
  const auto bad = answer_device_id_request(k, tid, 0xC0168612,
                                            make_device_id_request(wrong, 0xC0168612, 5), 7, &ok);
  EXPECT_FALSE(ok);
  EXPECT_FALSE(parse_device_id_reply(k, 0xC0168612, bad).has_value());
}

TEST(Crypto, TestKeySetIsMarkedAndStable) {
  const auto& t = test_key_set();
  EXPECT_TRUE(t.test_only);
  EXPECT_EQ(&t, &test_key_set());
  const auto req = make_challenge(t, 0x13000001, 42);
  auto reply = answer_challenge(t, t.master_device_id, 0x13000001, req, 43);
  ASSERT_TRUE(reply);
  EXPECT_TRUE(check_challenge_reply(t.master_device_id, 0x13000001, 42, *reply));
}

TEST(Crypto, AesCbcMatchesOpensslCommandLine) {
  std::mt19937 rng(1234);
  AesKeyIv k;
  for (auto& b : k.key) b = static_cast<std::uint8_t>(rng());
  for (auto& b : k.iv) b = static_cast<std::uint8_t>(rng());
  std::vector<std::uint8_t> plain(48);
  for (auto& b : plain) b = static_cast<std::uint8_t>(rng());
  std::vector<std::uint8_t> ours(plain.size()), back(plain.size());
  ASSERT_TRUE(aes_cbc_encrypt(k, plain, ours));
  ASSERT_TRUE(aes_cbc_decrypt(k, ours, back));
  EXPECT_EQ(back, plain);

  char dir[] = "/tmp/loxcan-aes-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string in = std::string(dir) + "/in", out = std::string(dir) + "/out";
  std::ofstream(in, std::ios::binary)
      .write(reinterpret_cast<const char*>(plain.data()),
             static_cast<std::streamsize>(plain.size()));
  const std::string cmd = "openssl enc -aes-128-cbc -nopad -K " + hex(k.key) + " -iv " + hex(k.iv) +
                          " -in " + in + " -out " + out;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(out, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string theirs = ss.str();
  EXPECT_EQ(hex(ours),
            hex(std::span(reinterpret_cast<const std::uint8_t*>(theirs.data()), theirs.size())));
  std::remove(in.c_str());
  std::remove(out.c_str());
  rmdir(dir);
}

TEST(Crypto, AesRejectsBadSizes) {
  AesKeyIv k;
  std::vector<std::uint8_t> in(15), out(15);
  EXPECT_FALSE(aes_cbc_encrypt(k, in, out));
  std::vector<std::uint8_t> in16(16), out8(8);
  EXPECT_FALSE(aes_cbc_encrypt(k, in16, out8));
  EXPECT_FALSE(aes_cbc_decrypt(k, {}, {}));
}

}  // namespace
}  // namespace loxcan::emulation
