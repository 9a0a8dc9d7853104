// Input: a cache key (hex digest) plus the artifacts and metadata of one compiled kernel.
// Output: an on-disk entry root/<key[0:2]>/<key>/ that appears whole, and lookups that verify it.
#pragma once
#include <map>
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

// What a lookup found. Damaged: meta.json is there but an artifact it lists is missing, or its
// size or SHA-256 differs from the one recorded (a truncated or edited file).
struct CacheLookup {
  enum class Status { Hit, Miss, Damaged };
  Status status = Status::Miss;
  nlohmann::json meta;   // Hit: the entry's metadata
  // Hit: each artifact's bytes, as read and verified, so that the caller does not read them again.
  std::map<std::string, std::string> artifacts;
  std::string problem;   // Damaged: e.g. "kernel.so is 1200 bytes, meta.json records 5400"
};

// Kernel cache shared by threads and processes. An entry is written whole in a temp folder and
// renamed into place, so readers see either no entry or a complete one; meta.json records each
// artifact's size and SHA-256, so a file damaged later is detected by the next lookup.
class KernelCache {
 public:
  explicit KernelCache(std::string root);
  const std::string& root() const { return root_; }
  // root/<first 2 chars of key>/<key>
  std::string entry_dir(const std::string& key) const;
  CacheLookup find(const std::string& key) const;
  // The entry's metadata when find() is a Hit.
  std::optional<nlohmann::json> lookup(const std::string& key) const;
  std::string artifact_path(const std::string& key, const std::string& name) const;
  // Writes `files` (name, bytes) and meta.json (plus "artifacts": name -> {size, sha256}) as one
  // entry. Names are plain file names other than meta.json. Concurrent stores of one key all
  // succeed and leave one entry, the first complete one; an incomplete or damaged entry in the way
  // is replaced. On failure returns false and sets *error (when non-null) to a message naming the
  // path and the system error.
  bool store(const std::string& key, const std::vector<std::pair<std::string, std::string>>& files,
             const nlohmann::json& meta, std::string* error);
  // Deletes the entry; it is renamed aside first, so no reader sees half of it.
  void remove(const std::string& key) const;
  // Whether entries can be stored under root (created if needed); *error says why not.
  bool writable(std::string* error) const;

 private:
  std::string root_;
};

}  // namespace tilec
