// Input: bytes fed in any number of pieces. Output: the SHA-256 digest as 64 lowercase hex
// characters; hex_digest() finalizes, after which the object must not be updated again.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tilec {

// Streaming SHA-256 (FIPS 180-4) for cache keys and artifact checks; self-contained so the cache
// needs no crypto lib. On x86-64 CPUs with the SHA extensions the blocks go through them (~5x the
// portable code's speed: a warm start hashes the cubin or .so it loads); both give the same digest.
class Sha256 {
 public:
  enum class Impl { Best, Portable };  // Portable: for tests that compare the two
  explicit Sha256(Impl impl = Impl::Best);
  void update(std::string_view data);
  // Pads, finishes and returns the digest; later calls return the same digest.
  std::string hex_digest();

 private:
  void compress(const uint8_t* blocks, size_t count);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
  bool finished_ = false;
  std::string digest_;
  bool hardware_ = false;
};

// True when this CPU has the SHA extensions that Impl::Best uses.
bool sha256_hardware();

std::string sha256_hex(std::string_view data);

}  // namespace tilec
