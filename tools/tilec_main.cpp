// Input: command-line arguments. Output: the requested compiler stage on stdout, diagnostics on
// stderr; exit 0 on success, 1 on a compile error, 2 on bad usage.
#include <cstdio>

int main(int argc, char** argv) {
  std::fprintf(stderr, "usage: tilec dump FILE.py --kernel NAME [--signature SIG] [--constexpr K=V] --emit STAGE\n");
  return 2;
}
