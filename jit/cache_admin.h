// Input: a kernel cache root. Output: what it holds (for `tilec cache list`), removal of entries
// unused for a while (`tilec cache clear --older-than`), and least-recently-used eviction down to
// TILEC_CACHE_MAX_BYTES after each store. An entry's last use is its folder's mtime, set on each hit.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tilec {

struct CacheEntryInfo {
  std::string key;
  std::string dir;
  uint64_t bytes = 0;     // all files in the entry's folder
  int64_t last_used = 0;  // seconds since the epoch (the folder's mtime)
  nlohmann::json meta;    // meta.json, or null when it is missing or not JSON
};

// The kernel entries root/<key[0:2]>/<key>, oldest use first. The index (root/index), the
// precompiled runtime headers (root/pch) and autotuning results (root/autotune) are not entries.
std::vector<CacheEntryInfo> list_cache_entries(const std::string& root);

// Marks an entry as used now (its folder's mtime), so that eviction keeps it longest.
void touch_cache_entry(const std::string& dir);

// Removes the least recently used entries until the entries total at most max_bytes; the entry
// `keep` (the one just stored) is never removed. Returns the number of entries removed.
size_t evict_cache_entries(const std::string& root, uint64_t max_bytes, const std::string& keep);

// TILEC_CACHE_MAX_BYTES: nullopt when unset or empty; a value that is not a whole number of bytes
// sets *error and returns nullopt.
std::optional<uint64_t> cache_max_bytes(std::string* error);

}  // namespace tilec
