// Input: keys, artifact bytes and metadata. Output: cache entries on disk; an entry only ever
// appears under its final name whole (files written, folder renamed in), and lookups check sizes and hashes.
#include "jit/cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>

#include "jit/sha256.h"

namespace tilec {

namespace {

constexpr const char* kMetaName = "meta.json";

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string sys_error(const std::string& what, const std::string& path, int err) {
  return what + " '" + path + "': " + std::strerror(err);
}

// Like `mkdir -p`; tolerates another writer creating the same folders at the same time.
bool make_dirs(const std::string& path, std::string* error) {
  if (path.empty()) return true;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return true;
    *error = sys_error("cannot create directory", path, ENOTDIR);
    return false;
  }
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0 && !make_dirs(path.substr(0, slash), error))
    return false;
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) {
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return true;
    *error = sys_error("cannot create directory", path, ENOTDIR);
    return false;
  }
  *error = sys_error("cannot create directory", path, errno);
  return false;
}

// pid + thread + per-process counter make the name unique across threads and processes.
std::string temp_name_for(const std::string& final_path) {
  static std::atomic<uint64_t> counter{0};
  std::ostringstream name;
  name << final_path << ".tmp." << ::getpid() << "."
       << std::hash<std::thread::id>{}(std::this_thread::get_id()) << "."
       << counter.fetch_add(1, std::memory_order_relaxed);
  return name.str();
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Writes to a temp file and renames it over `path`. No fsync: a crash can leave a renamed file
// short or empty on disk, but every lookup checks each artifact's size and SHA-256, so such an
// entry reads as damaged and is recompiled, while five fsyncs (entry and index) cost a cold call
// 1-20 ms of waiting on the disk.
bool write_file_atomic(const std::string& path, std::string_view bytes, std::string* error) {
  std::string tmp = temp_name_for(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = sys_error("cannot create", tmp, errno);
    return false;
  }
  bool ok = write_all(fd, bytes);
  int err = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    *error = sys_error("cannot write", tmp, err);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = sys_error("cannot rename '" + tmp + "' to", path, errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

// One read of the file's size as fstat gives it (plus a probe for a file that grew meanwhile):
// a warm start reads its cubin or .so here, where a stream copy would cost two extra copies.
bool read_whole_file(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  bool ok = ::fstat(fd, &st) == 0;
  out->clear();
  if (ok) out->resize(static_cast<size_t>(st.st_size) + 1);
  size_t got = 0;
  while (ok) {
    if (got == out->size()) out->resize(out->size() * 2);
    ssize_t n = ::read(fd, out->data() + got, out->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out->resize(got);
  return ok;
}

bool valid_key(const std::string& key) {
  return key.size() >= 2 && key.find('/') == std::string::npos && key[0] != '.';
}

bool valid_file_name(const std::string& name) {
  return !name.empty() && name != kMetaName && name.find('/') == std::string::npos &&
         name != "." && name != "..";
}

}  // namespace

std::string default_cache_root() {
  std::string dir = env_or_empty("TILEC_CACHE_DIR");
  if (!dir.empty()) return dir;
  std::string home = env_or_empty("HOME");
  if (!home.empty()) return home + "/.cache/tilec";
  std::error_code ec;
  std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
  if (ec) tmp = "/tmp";
  // Per-user so that another user's folder (with its permissions) is never reused.
  return (tmp / ("tilec-cache-" + std::to_string(::getuid()))).string();
}

bool always_compile() { return env_or_empty("TILEC_ALWAYS_COMPILE") == "1"; }

KernelCache::KernelCache(std::string root) : root_(std::move(root)) {}

std::string KernelCache::entry_dir(const std::string& key) const {
  return root_ + "/" + key.substr(0, 2) + "/" + key;
}

std::string KernelCache::artifact_path(const std::string& key, const std::string& name) const {
  return entry_dir(key) + "/" + name;
}

CacheLookup KernelCache::find(const std::string& key) const {
  CacheLookup out;
  if (!valid_key(key)) return out;
  std::string text;
  if (!read_whole_file(artifact_path(key, kMetaName), &text)) return out;
  // A corrupt meta.json (e.g. edited by hand) or one without artifact records reads as a miss;
  // the next store replaces the entry.
  nlohmann::json meta = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("artifacts") || !meta["artifacts"].is_object())
    return out;
  for (const auto& [name, rec] : meta["artifacts"].items()) {
    if (!valid_file_name(name) || !rec.is_object() || !rec.contains("size") || !rec.contains("sha256")) return out;
    out.status = CacheLookup::Status::Damaged;
    std::string data;
    if (!read_whole_file(artifact_path(key, name), &data)) {
      out.problem = name + " is missing";
      return out;
    }
    uint64_t want = rec["size"].is_number_unsigned() ? rec["size"].get<uint64_t>() : ~uint64_t{0};
    if (data.size() != want) {
      out.problem = name + " is " + std::to_string(data.size()) + " bytes, meta.json records " + rec["size"].dump();
      return out;
    }
    if (!rec["sha256"].is_string() || sha256_hex(data) != rec["sha256"].get<std::string>()) {
      out.problem = name + " does not match the SHA-256 that meta.json records";
      return out;
    }
    out.artifacts[name] = std::move(data);
  }
  out.status = CacheLookup::Status::Hit;
  out.meta = std::move(meta);
  return out;
}

std::optional<nlohmann::json> KernelCache::lookup(const std::string& key) const {
  CacheLookup r = find(key);
  switch (r.status) {
    case CacheLookup::Status::Hit: return std::move(r.meta);
    case CacheLookup::Status::Miss:
    case CacheLookup::Status::Damaged: return std::nullopt;
  }
  return std::nullopt;
}

void KernelCache::remove(const std::string& key) const {
  if (!valid_key(key)) return;
  std::string dir = entry_dir(key);
  std::string aside = temp_name_for(dir) + ".del";
  std::error_code ec;
  if (::rename(dir.c_str(), aside.c_str()) == 0) std::filesystem::remove_all(aside, ec);
}

bool KernelCache::writable(std::string* error) const {
  if (!make_dirs(root_, error)) return false;
  if (::access(root_.c_str(), W_OK | X_OK) != 0) {
    *error = sys_error("cannot write to", root_, errno);
    return false;
  }
  return true;
}

bool KernelCache::store(const std::string& key,
                        const std::vector<std::pair<std::string, std::string>>& files,
                        const nlohmann::json& meta, std::string* error) {
  std::string scratch;
  if (!error) error = &scratch;
  if (!valid_key(key)) {
    *error = "invalid cache key '" + key + "'";
    return false;
  }
  for (const auto& [name, bytes] : files) {
    if (!valid_file_name(name)) {
      *error = "invalid cache artifact name '" + name + "' for key " + key;
      return false;
    }
  }
  std::string dir = entry_dir(key);
  if (!make_dirs(root_ + "/" + key.substr(0, 2), error)) return false;
  std::string tmp = temp_name_for(dir);
  if (::mkdir(tmp.c_str(), 0755) != 0) {
    *error = sys_error("cannot create directory", tmp, errno);
    return false;
  }
  std::error_code ec;
  nlohmann::json full = meta;
  full["artifacts"] = nlohmann::json::object();
  for (const auto& [name, bytes] : files) {
    if (!write_file_atomic(tmp + "/" + name, bytes, error)) {
      std::filesystem::remove_all(tmp, ec);
      return false;
    }
    full["artifacts"][name] = {{"size", bytes.size()}, {"sha256", sha256_hex(bytes)}};
  }
  // Replacing bad UTF-8 keeps dump() from throwing on odd kernel names.
  std::string meta_text = full.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!write_file_atomic(tmp + "/" + kMetaName, meta_text, error)) {
    std::filesystem::remove_all(tmp, ec);
    return false;
  }
  // rename() will not replace a non-empty folder: the first complete entry stays. One that is
  // incomplete or damaged is removed and the rename tried again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (::rename(tmp.c_str(), dir.c_str()) == 0) return true;
    int err = errno;
    if (err != EEXIST && err != ENOTEMPTY) {
      *error = sys_error("cannot rename '" + tmp + "' to", dir, err);
      break;
    }
    if (find(key).status == CacheLookup::Status::Hit) {
      std::filesystem::remove_all(tmp, ec);
      return true;
    }
    remove(key);
    *error = "cannot replace the damaged cache entry '" + dir + "'";
  }
  std::filesystem::remove_all(tmp, ec);
  return false;
}

}  // namespace tilec
