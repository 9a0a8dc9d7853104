// Input: a cache key (hex digest) plus the artifacts and metadata of one compiled kernel.
// Output: an on-disk entry root/<key[0:2]>/<key>/ whose meta.json exists only once every file is in place.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tilec {

// $TILEC_CACHE_DIR, else $HOME/.cache/tilec, else a per-user folder under the temp dir.
std::string default_cache_root();

// True when TILEC_ALWAYS_COMPILE=1: callers skip lookup() but still store().
bool always_compile();

// Kernel cache shared by threads and processes; every write is temp file + rename, so readers
// see either nothing or a whole file, and meta.json (written last) marks the entry complete.
class KernelCache {
 public:
  explicit KernelCache(std::string root);
  const std::string& root() const { return root_; }
  // root/<first 2 chars of key>/<key>
  std::string entry_dir(const std::string& key) const;
  // The entry's metadata, present only if the entry is complete (meta.json parsed).
  std::optional<nlohmann::json> lookup(const std::string& key) const;
  std::string artifact_path(const std::string& key, const std::string& name) const;
  // Writes `files` (name, bytes) then meta.json. Names are plain file names other than
  // meta.json. Concurrent stores of one key all succeed; the last rename of each file wins,
  // which is harmless because equal keys mean equal contents. On failure returns false and
  // sets *error (when non-null) to a message naming the path and the system error.
  bool store(const std::string& key, const std::vector<std::pair<std::string, std::string>>& files,
             const nlohmann::json& meta, std::string* error);

 private:
  std::string root_;
};

}  // namespace tilec
