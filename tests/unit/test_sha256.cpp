// Input: the FIPS 180-4 / NIST example messages. Output: pass/fail of Sha256 against their
// published digests, fed whole and in uneven pieces (which must agree); the SHA-extension path
// against the portable one where the CPU has them.
#include "jit/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tilec {
namespace {

TEST(Sha256, StandardVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
                       "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, MillionAs) {
  Sha256 h;
  std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.update(chunk);
  EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PiecewiseMatchesWhole) {
  std::string text;
  for (int i = 0; i < 300; ++i) text.push_back(char('a' + i % 26));
  for (size_t len : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 120u, 300u}) {
    std::string msg = text.substr(0, len);
    Sha256 h;
    for (size_t pos = 0; pos < len; pos += 7) h.update(std::string_view(msg).substr(pos, 7));
    EXPECT_EQ(h.hex_digest(), sha256_hex(msg)) << "length " << len;
  }
  Sha256 h;
  h.update("abc");
  std::string first = h.hex_digest();
  EXPECT_EQ(h.hex_digest(), first);
}

// Every length up to a few blocks and a large buffer, each fed whole and in odd pieces, so that
// multi-block runs, the tail and the padding all go through both implementations.
TEST(Sha256, HardwareMatchesPortable) {
  if (!sha256_hardware()) GTEST_SKIP() << "this CPU has no SHA extensions";
  std::string data(1 << 20, '\0');
  uint32_t x = 12345;
  for (char& c : data) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  std::vector<size_t> lengths;
  for (size_t len = 0; len <= 200; ++len) lengths.push_back(len);
  lengths.push_back(data.size());
  for (size_t len : lengths) {
    std::string_view msg(data.data(), len);
    Sha256 fast, slow(Sha256::Impl::Portable);
    fast.update(msg);
    slow.update(msg);
    std::string want = slow.hex_digest();
    EXPECT_EQ(fast.hex_digest(), want) << "length " << len;
    Sha256 pieces;
    for (size_t pos = 0; pos < len; pos += 131) pieces.update(msg.substr(pos, 131));
    EXPECT_EQ(pieces.hex_digest(), want) << "length " << len << " in pieces";
  }
}

}  // namespace
}  // namespace tilec
