// Input: the FIPS 180-4 / NIST example messages. Output: pass/fail of Sha256 against their
// published digests, fed whole and in uneven pieces (which must agree).
#include "jit/sha256.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tilec
