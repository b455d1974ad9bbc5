#include "devices/emulation/keys.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace loxcan::emulation {
namespace {

const char* kGood =
    "# comment\n"
    "algo_key = 01234567 89abcdef 0xFEDCBA98 76543210\n"
    "\n"
    "algo_iv: 1 2 3 4   # trailing comment\n"
    "legacy_key = a0a0a0a0 0b0b0b0b c0c0c0c0 0d0d0d0d\r\n"
    "legacy_iv = 13579bdf 2468ace0 0f1e2d3c 4b5a6978\n"
    "master_device_id = 000102030405060708090a0b\n";

TEST(KeyFile, ParsesAllKeys) {
  auto k = parse_key_file(kGood, "k.txt");
  EXPECT_EQ(k.algo_key[2], 0xFEDCBA98u);
  EXPECT_EQ(k.algo_iv[3], 4u);
  EXPECT_EQ(k.legacy_iv[1], 0x2468ACE0u);
  EXPECT_EQ(k.master_device_id[11], 0x0B);
  EXPECT_FALSE(k.test_only);
  EXPECT_EQ(parse_key_file(format_key_file(k), "round-trip"), k);
}

struct BadRow {
  const char* name;
  std::string text;
  const char* error;
};

TEST(KeyFile, ErrorsNameFileLineAndKey) {
  std::string good = kGood;
  const BadRow rows[] = {
      {"no_equals", "algo_key 1 2 3 4\n", "k.txt:1: expected 'name: value'"},
      {"unknown", "foo = 1\n", "k.txt:1: unknown key 'foo'"},
      {"duplicate", good + "algo_iv = 1 2 3 4\n", "k.txt:8: duplicate key 'algo_iv'"},
      {"three_words", "algo_key = 1 2 3\n", "k.txt:1: algo_key: expected 4 hex words"},
      {"long_word", "algo_key = 1 2 3 123456789\n", "k.txt:1: algo_key: expected 4 hex words"},
      {"bad_hex", "algo_iv = 1 2 3 xyz\n", "k.txt:1: algo_iv: expected 4 hex words"},
      {"short_id", "master_device_id = 0001\n",
       "k.txt:1: master_device_id: expected 24 hex digits"},
      {"missing", "algo_key = 1 2 3 4\n", "k.txt:1: missing key 'algo_iv'"},
      {"empty", "", "k.txt:0: missing key 'algo_key'"},
  };
  for (const auto& r : rows) {
    try {
      parse_key_file(r.text, "k.txt");
      ADD_FAILURE() << r.name << ": no error";
    } catch (const KeyFileError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(r.error, 0), 0u) << r.name << ": " << e.what();
    }
  }
}

TEST(KeyFile, LoadChecksMode) {
  char dir[] = "/tmp/loxcan-keys-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/keys";
  std::ofstream(path) << kGood;
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  try {
    load_key_file(path);
    ADD_FAILURE() << "0644 accepted";
  } catch (const KeyFileError& e) {
    EXPECT_NE(std::string(e.what()).find("mode 0644"), std::string::npos) << e.what();
  }
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  EXPECT_EQ(load_key_file(path).algo_key[0], 0x01234567u);
  unlink(path.c_str());
  try {
    load_key_file(path);
    ADD_FAILURE() << "missing file accepted";
  } catch (const KeyFileError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read key file"), std::string::npos) << e.what();
  }
  rmdir(dir);
}

}  // namespace
}  // namespace loxcan::emulation
