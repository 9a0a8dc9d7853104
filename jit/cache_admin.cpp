// Input: a kernel cache root (jit/cache.h's layout). Output: its entries with sizes and last use,
// and LRU eviction. Entries are removed by renaming them aside first, as KernelCache::remove does,
// so a reader sees a whole entry or none.
#include "jit/cache_admin.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jit/cache.h"

namespace tilec {

namespace fs = std::filesystem;

namespace {

uint64_t folder_bytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}

// Entry folders are named by a hex key; temp folders of stores in flight carry ".tmp." in their name.
bool is_entry_name(const std::string& shard, const std::string& name) {
  return name.size() > 2 && name.compare(0, 2, shard) == 0 && name.find(".tmp.") == std::string::npos;
}

}  // namespace

std::vector<CacheEntryInfo> list_cache_entries(const std::string& root) {
  std::vector<CacheEntryInfo> out;
  std::error_code ec;
  for (fs::directory_iterator shards(root, ec), end; !ec && shards != end; shards.increment(ec)) {
    std::string shard = shards->path().filename().string();
    if (shard.size() != 2 || !shards->is_directory(ec)) continue;
    std::error_code ec2;
    for (fs::directory_iterator it(shards->path(), ec2), end2; !ec2 && it != end2; it.increment(ec2)) {
      std::string name = it->path().filename().string();
      if (!is_entry_name(shard, name) || !it->is_directory(ec2)) continue;
      CacheEntryInfo e;
      e.key = name;
      e.dir = it->path().string();
      e.bytes = folder_bytes(it->path());
      struct stat st;
      if (::stat(e.dir.c_str(), &st) == 0) e.last_used = static_cast<int64_t>(st.st_mtime);
      std::ifstream in(it->path() / "meta.json", std::ios::binary);
      if (in) {
        std::ostringstream text;
        text << in.rdbuf();
        e.meta = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
        if (e.meta.is_discarded()) e.meta = nullptr;
      }
      out.push_back(std::move(e));
    }
  }
  std::sort(out.begin(), out.end(), [](const CacheEntryInfo& a, const CacheEntryInfo& b) {
    return a.last_used != b.last_used ? a.last_used < b.last_used : a.key < b.key;
  });
  return out;
}

void touch_cache_entry(const std::string& dir) {
  // A read-only cache keeps working; its entries just age by creation time.
  (void)::utimensat(AT_FDCWD, dir.c_str(), nullptr, 0);
}

size_t evict_cache_entries(const std::string& root, uint64_t max_bytes, const std::string& keep) {
  std::vector<CacheEntryInfo> entries = list_cache_entries(root);
  uint64_t total = 0;
  for (const CacheEntryInfo& e : entries) total += e.bytes;
  KernelCache cache(root);
  size_t removed = 0;
  for (const CacheEntryInfo& e : entries) {  // oldest use first
    if (total <= max_bytes) break;
    if (e.key == keep) continue;
    cache.remove(e.key);
    total -= e.bytes;
    ++removed;
  }
  return removed;
}

std::optional<uint64_t> cache_max_bytes(std::string* error) {
  const char* v = std::getenv("TILEC_CACHE_MAX_BYTES");
  if (v == nullptr || *v == '\0') return std::nullopt;
  std::string s(v);
  if (s.find_first_not_of("0123456789") != std::string::npos || s.size() > 19) {
    *error = "TILEC_CACHE_MAX_BYTES='" + s + "' is not a whole number of bytes";
    return std::nullopt;
  }
  return std::stoull(s);
}

}  // namespace tilec
