// The rANS delta kernel alone (native/src/rans_kernel.h, no N-API, no JavaScript): replays the
// deltaRans calls `node dist/bench/queries/rans-kernel.js --chains <chain> --dump FILE` wrote,
// checks every page's values bit for bit against what the addon decoded, then times passes
// over all pages (tables built per page, as the addon does) in CPU time of the process.
// Build and run (from the repository root; the addon's flags):
//   g++ -std=c++17 -O2 -ffp-contract=off -Inative/src bench/queries/rans-kernel-driver.cc -o /tmp/rans-driver
//   /tmp/rans-driver FILE [passes]    (QUIVER_NO_AVX512=1 / QUIVER_NO_SIMD=1 as for the addon)
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "rans_kernel.h"

using namespace quiver_rans;

struct Call {
  double n, s, lanes, first, step, divisor, streamLen, lowLen, zigzag;
  std::vector<uint16_t> freq;
  std::vector<uint8_t> stream, low;
  std::vector<double> want;
};

static double CpuNs() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

template <typename T>
static bool ReadAll(FILE* f, std::vector<T>* v, size_t count) {
  v->resize(count);
  return std::fread(v->data(), sizeof(T), count, f) == count;
}

int main(int argc, char** argv) {
  if (argc < 2) { std::fprintf(stderr, "usage: rans-driver FILE [passes]\n"); return 2; }
  FILE* f = std::fopen(argv[1], "rb");
  if (f == nullptr) { std::perror(argv[1]); return 2; }
  std::vector<Call> calls;
  for (;;) {
    Call c;
    if (std::fread(&c.n, sizeof(double), 9, f) != 9) break;
    if (!ReadAll(f, &c.freq, 256) || !ReadAll(f, &c.stream, size_t(c.streamLen)) || !ReadAll(f, &c.low, size_t(c.lowLen)) || !ReadAll(f, &c.want, size_t(c.n))) {
      std::fprintf(stderr, "%s: truncated at call %zu\n", argv[1], calls.size());
      return 2;
    }
    calls.push_back(std::move(c));
  }
  std::fclose(f);
  const int passes = argc > 2 ? std::atoi(argv[2]) : 21;
  size_t values = 0, nMax = 0;
  for (const Call& c : calls) { values += size_t(c.n); nMax = std::max(nMax, size_t(c.n)); }
  std::vector<double> out(nMax);
  static RansArgs a;  // 20 KiB of tables: not on the stack
  std::vector<double> nsPerValue;
  for (int pass = -1; pass < passes; pass++) {
    const double start = CpuNs();
    for (size_t k = 0; k < calls.size(); k++) {
      const Call& c = calls[k];
      a.stream = c.stream.data(); a.streamLen = c.stream.size();
      a.low = c.low.data(); a.lowLen = c.low.size();
      a.s = uint32_t(c.s); a.n = size_t(c.n); a.lanes = uint32_t(c.lanes);
      if (!BuildSlots(c.freq.data(), &a)) { std::fprintf(stderr, "call %zu: bad frequencies\n", k); return 1; }
      const double status = c.zigzag != 0 ? DeltaRansFold<true>(a, c.first, c.step, c.divisor, out.data()) : DeltaRansFold<false>(a, c.first, c.step, c.divisor, out.data());
      if (pass < 0 && (status != -1 || std::memcmp(out.data(), c.want.data(), 8 * a.n) != 0)) {
        std::fprintf(stderr, "call %zu: status %g, values differ from the addon's\n", k, status);
        return 1;
      }
    }
    if (pass >= 0) nsPerValue.push_back((CpuNs() - start) / double(values));
  }
  std::sort(nsPerValue.begin(), nsPerValue.end());
  std::printf("%zu pages, %zu values, checked; %.3f ns a value CPU (median of %d passes, min %.3f)\n", calls.size(), values, nsPerValue[nsPerValue.size() / 2], passes, nsPerValue[0]);
  return 0;
}
