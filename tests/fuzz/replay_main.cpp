// Input: files and folders named on the command line (folders: every regular file in them, sorted).
// Output: each file run once through the fuzz target, and a count of the kernels that reached both
// code generators; exit 0, or 2 on a file that cannot be read.
// Built with the ordinary compiler (no libFuzzer), so ctest replays the corpus and the crash
// reproducers kept in tests/fuzz/corpus on every build; a crash there fails the test.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
size_t fuzz_kernels_generated();  // fuzz_frontend.cpp

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
    return 2;
  }
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::filesystem::path> in_folder;
      for (const auto& e : std::filesystem::directory_iterator(p, ec))
        if (e.is_regular_file()) in_folder.push_back(e.path());
      std::sort(in_folder.begin(), in_folder.end());
      files.insert(files.end(), in_folder.begin(), in_folder.end());
    } else if (std::filesystem::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "%s: no such file or folder\n", argv[i]);
      return 2;
    }
  }
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    if (!in) {
      std::fprintf(stderr, "%s: cannot read\n", path.c_str());
      return 2;
    }
    std::string data = bytes.str();
    // Named before it runs: a crash leaves the offending file as the last line.
    std::fprintf(stderr, "replay %s\n", path.c_str());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
  std::printf("replayed %zu files: %zu kernels through both code generators\n", files.size(), fuzz_kernels_generated());
  return 0;
}
