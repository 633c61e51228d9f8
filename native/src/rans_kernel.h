// The rANS decode kernels without N-API (rans.cc wraps them): the byte-wise loop for 1, 2, 4,
// 8, 16 or 32 interleaved states (and AVX2 loops for the wider ones, picked at run time), the delta fold and
// the dictionary map. A header so a C++ bench or test can drive them directly.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QUIVER_RANS_AVX2 1
#endif

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "rans_kernel.h reads the packed low bits and the stream as little-endian words"
#endif

namespace quiver_rans {
namespace {

constexpr uint32_t kRansL = 1u << 23;

// The lane counts (interleaved states) a page may have: 1 and 2 (the `…>rans` and `…>rans2`
// ids), 4, 8, 16 or 32 (`…>ransx` pages, which store theirs).
inline bool KnownLanes(uint32_t lanes) { return lanes == 1 || lanes == 2 || lanes == 4 || lanes == 8 || lanes == 16 || lanes == 32; }

// Whether the AVX2 loops run: the CPU has AVX2 and QUIVER_NO_SIMD is not 1 (which a test uses
// to check the scalar fallback against them, as CPUs without AVX2 run it).
bool HasAvx2() {
  const char* off = std::getenv("QUIVER_NO_SIMD");
  if (off != nullptr && std::strcmp(off, "1") == 0) return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
const bool kHasAvx2 = HasAvx2();

// Slots c … c + f − 1 of the packed table: word | k << 20 for k < f (word's bits 20–31 are
// zero, so | is +). The scalar loop stored one word a cycle, ~4% of a float scan's decode
// (4,096 slots for a page's 8,192 values); eight at a time with AVX2.
#if defined(QUIVER_RANS_AVX2)
__attribute__((target("avx2"))) void FillSlotsAvx2(uint32_t* dst, uint32_t word, uint32_t f) {
  __m256i v = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(word)), _mm256_setr_epi32(0, 1 << 20, 2 << 20, 3 << 20, 4 << 20, 5 << 20, 6 << 20, 7 << 20));
  const __m256i step = _mm256_set1_epi32(8 << 20);
  uint32_t k = 0;
  for (; k + 8 <= f; k += 8) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k), v);
    v = _mm256_add_epi32(v, step);
  }
  for (; k < f; k++) dst[k] = word | k << 20;
}
#endif

inline void FillSlots(uint32_t* dst, uint32_t word, uint32_t f) {
#if defined(QUIVER_RANS_AVX2)
  if (kHasAvx2 && f >= 8) { FillSlotsAvx2(dst, word, f); return; }
#endif
  for (uint32_t k = 0; k < f; k++) dst[k] = word | k << 20;
}

// The arguments the rANS kernels share, and the decoding table built from the page's
// frequencies (building it in JS cost as much as the decode).
struct RansArgs {
  // Per slot of the 4096, the symbol and the state update's constants in one word: bits 0–7
  // the symbol, 8–19 its frequency − 1, 20–31 slot − cum (the slot's offset in the symbol's
  // range). The decode step is x' = f · (x >> 12) + offset = (f − 1) · (x >> 12) + (x >> 12) +
  // offset: one table load (one gather for 8 states).
  uint32_t slot[4096];
  // For pages of fewer than 8 lanes (the scalar loop), two tables instead: the symbol, and
  // frequency << 12 | offset (one operation fewer on a value's dependency chain than the
  // packed word, measured faster for 1 and 2 lanes).
  uint8_t slotSymbol[4096];
  uint32_t slotStep[4096];
  const uint8_t* stream;
  size_t streamLen;
  const uint8_t* low;
  size_t lowLen;
  uint32_t s;
  size_t n;
  uint32_t lanes;
  // The largest value the tables can decode: (largest symbol + 1) · 2^s − 1.
  double valueMax;
};

// Builds the tables the page's lane count uses (a->lanes). False when freq (256 entries) does
// not sum to 4096. Needs a->s.
bool BuildSlots(const uint16_t* freq, RansArgs* a) {
  uint32_t c = 0;
  uint32_t top = 0;
  const bool packed = a->lanes >= 8;
  for (uint32_t h = 0; h < 256; h++) {
    const uint32_t f = freq[h];
    if (f == 0) continue;
    if (c + f > 4096) return false;
    if (packed) {
      FillSlots(a->slot + c, h | (f - 1) << 8, f);
    } else {
      std::memset(a->slotSymbol + c, static_cast<int>(h), f);
      for (uint32_t k = 0; k < f; k++) a->slotStep[c + k] = (f << 12) | k;
    }
    c += f;
    top = h + 1;
  }
  a->valueMax = std::ldexp(static_cast<double>(top), static_cast<int>(a->s)) - 1;
  return c == 4096;
}

// The delta a coded value stands for: zigzagged (0, −1, 1, −2, … as 0, 1, 2, 3, …) or plain.
template <bool ZIGZAG>
__attribute__((always_inline)) inline int64_t DeltaOf(uint32_t z) {
  return ZIGZAG ? static_cast<int64_t>(static_cast<int32_t>(z >> 1) ^ -static_cast<int32_t>(z & 1)) : static_cast<int64_t>(z);
}

// Calls fn with std::integral_constant<int, lanes> for the page's lane count (KnownLanes).
template <typename Fn>
__attribute__((always_inline)) inline double WithLanes(uint32_t lanes, Fn fn) {
  switch (lanes) {
    case 32: return fn(std::integral_constant<int, 32>());
    case 16: return fn(std::integral_constant<int, 16>());
    case 8: return fn(std::integral_constant<int, 8>());
    case 4: return fn(std::integral_constant<int, 4>());
    case 2: return fn(std::integral_constant<int, 2>());
    default: return fn(std::integral_constant<int, 1>());
  }
}

// Where a decode stands: the next value, the next stream byte, the states.
template <int LANES>
struct Cursor {
  size_t i;
  size_t pos;
  uint32_t state[LANES];
};

// Reads the lanes' initial states; false when one lies outside [2^23, 2^31) (a state inside
// stays inside and takes at most 2 bytes a value; one outside could take more, and the fast
// rounds do not check the stream's end).
template <int LANES>
bool StartCursor(const RansArgs& a, Cursor<LANES>* c) {
  c->i = 0;
  c->pos = 4 * LANES;
  for (int l = 0; l < LANES; l++) {
    const uint8_t* p = a.stream + 4 * l;
    c->state[l] = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    if (a.n > 0 && (c->state[l] < kRansL || c->state[l] >= (kRansL << 8))) return false;
  }
  return true;
}

// Value i's low bits: they start at bit i·s of `low` (LSB first). One unaligned 8-byte load
// while 8 bytes remain (s ≤ 23 bits at a shift ≤ 7), byte by byte at the end; no running
// accumulator, so values' low bits are independent of each other and a decode may resume
// anywhere.
__attribute__((always_inline)) inline uint32_t LowAt(const uint8_t* low, size_t lowLen, uint32_t s, uint32_t lowMask, size_t i) {
  const size_t bit = i * s;
  const size_t byte = bit >> 3;
  uint64_t w = 0;
  if (byte + 8 <= lowLen) {
    std::memcpy(&w, low + byte, 8);
  } else {
    for (size_t k = 0; byte + k < lowLen && k < 8; k++) w |= uint64_t(low[byte + k]) << (8 * k);
  }
  return static_cast<uint32_t>(w >> (bit & 7)) & lowMask;
}

// The byte-wise rANS loop shared by the kernels below, from cursor c to the page's end: calls
// emit(i, z) with each coded value (symbol << s | low bits); emit returns false to stop at
// value i. Value i is decoded from state i % LANES: the states' updates are independent
// dependency chains. Returns -1 when the stream decodes cleanly (every state ends at 2^23
// with every byte used), else the index of the value where it ran out of bytes (or emit
// stopped), or n when it ended in the wrong state. c.i must be a multiple of LANES.
// Always inlined, into a small function of its own per kernel (DeltaRansFoldInts,
// RansDictMap): there the emit lambda's captures are that function's locals and stay in
// registers.
template <int LANES, typename Emit>
__attribute__((always_inline)) inline double RansLoop(const RansArgs& a, Cursor<LANES> c, Emit emit) {
  const uint32_t L = kRansL;
  const uint32_t* slots = a.slot;
  const uint8_t* stream = a.stream;
  const size_t streamLen = a.streamLen, n = a.n;
  const uint32_t s = a.s;
  const uint32_t lowMask = (1u << s) - 1;
  uint32_t state[LANES];
  for (int l = 0; l < LANES; l++) state[l] = c.state[l];
  size_t pos = c.pos;
  size_t i = c.i;
  // One value's decoding step: the symbol of the state's slot, and the state before renormalising.
  auto advance = [&](uint32_t x, uint32_t* sym) __attribute__((always_inline)) -> uint32_t {
    if constexpr (LANES >= 8) {
      const uint32_t word = slots[x & 4095];
      *sym = word & 255;
      const uint32_t high = x >> 12;
      return ((word >> 8) & 4095) * high + high + (word >> 20);
    } else {
      const uint32_t slot = x & 4095;
      *sym = a.slotSymbol[slot];
      const uint32_t step = a.slotStep[slot];
      return (step >> 12) * (x >> 12) + (step & 4095);
    }
  };
  // Value i's low bits: by position (LowAt) where a decode may resume mid-page after the
  // vector loop (8+ lanes); else from a running accumulator, refilled 4 bytes at a time
  // (fewer instructions a value, measured faster for 1 and 2 lanes). Either way value i's
  // bits are bits i·s… of `low`.
  uint64_t acc = 0;
  uint32_t accBits = 0;
  size_t at = 0;
  auto lowBits = [&](size_t at_i) __attribute__((always_inline)) -> uint32_t {
    if constexpr (LANES >= 8) {
      return LowAt(a.low, a.lowLen, s, lowMask, at_i);
    } else {
      (void)at_i;
      if (accBits < s) {
        if (at + 4 <= a.lowLen) {
          acc |= uint64_t(uint32_t(a.low[at]) | uint32_t(a.low[at + 1]) << 8 | uint32_t(a.low[at + 2]) << 16 | uint32_t(a.low[at + 3]) << 24) << accBits;
          at += 4;
          accBits += 32;
        } else {
          while (accBits < s) { acc |= uint64_t(a.low[at++]) << accBits; accBits += 8; }
        }
      }
      const uint32_t bits = static_cast<uint32_t>(acc & lowMask);
      acc >>= s;
      accBits -= s;
      return bits;
    }
  };
  // Whole rounds of LANES values while the stream holds the most bytes a round can take (2 a
  // value: the state never falls below 2^11), so no renormalisation can run out.
  for (; i + LANES <= n && pos + 2 * LANES <= streamLen; i += LANES) {
    uint32_t sym[LANES];
#pragma GCC unroll 8
    for (int l = 0; l < LANES; l++) state[l] = advance(state[l], &sym[l]);
#pragma GCC unroll 8
    for (int l = 0; l < LANES; l++) {
      if constexpr (LANES <= 2) {
        // Few lanes: branches, whose prediction lets the next value start before the bytes
        // arrive (measured faster than the branch-free form below for 1 and 2 lanes).
        while (state[l] < L) state[l] = (state[l] << 8) | stream[pos++];
      } else {
        // Many lanes: without branches (how many bytes a value takes is data), counted from
        // the state alone: (x << 8 | b) < 2^23 exactly when x < 2^15, so the position's chain
        // from lane to lane is adds, not loads.
        const uint32_t x = state[l];
        const uint32_t take = uint32_t(x < L) + uint32_t(x < (L >> 8));
        const uint32_t pair = uint32_t(stream[pos]) << 8 | stream[pos + 1];
        state[l] = (x << (take << 3)) | (pair >> ((2 - take) << 3));
        pos += take;
      }
    }
#pragma GCC unroll 8
    for (int l = 0; l < LANES; l++) {
      const uint32_t z = s > 0 ? (sym[l] << s) | lowBits(i + l) : sym[l];
      if (!emit(i + l, z)) return static_cast<double>(i + l);
    }
  }
  // The rest, checking the stream's end; i is a multiple of LANES, so value i + l is lane l's
  // (constant indexes only, so the states can stay in registers in the rounds above).
  for (; i < n; i += LANES) {
#pragma GCC unroll 8
    for (int l = 0; l < LANES; l++) {
      if (i + l >= n) break;
      uint32_t sym;
      uint32_t x = advance(state[l], &sym);
      while (x < L) {
        if (pos >= streamLen) return static_cast<double>(i + l);
        x = (x << 8) | stream[pos++];
      }
      state[l] = x;
      const uint32_t z = s > 0 ? (sym << s) | lowBits(i + l) : sym;
      if (!emit(i + l, z)) return static_cast<double>(i + l);
    }
  }
  for (int l = 0; l < LANES; l++) {
    if (state[l] != L) return static_cast<double>(n);
  }
  return pos != streamLen ? static_cast<double>(n) : -1;
}

#if QUIVER_RANS_AVX2
// Per renormalisation of 4 lanes, indexed by first | second << 4 (lanes taking a first and a
// second byte; second ⊆ first): the byte-shuffle control putting each lane's two candidate
// bytes b0 << 8 | b1 in its dword (b0 at its offset among the bytes the 4 lanes take, b1 next).
struct RenormControls {
  alignas(16) uint8_t ctrl[256][16];
  RenormControls() {
    for (uint32_t m = 0; m < 256; m++) {
      uint32_t offset = 0;
      for (uint32_t k = 0; k < 4; k++) {
        ctrl[m][4 * k] = static_cast<uint8_t>(offset + 1);
        ctrl[m][4 * k + 1] = static_cast<uint8_t>(offset);
        ctrl[m][4 * k + 2] = 0x80;
        ctrl[m][4 * k + 3] = 0x80;
        offset += ((m >> k) & 1) + ((m >> (4 + k)) & 1);
      }
    }
  }
};
const RenormControls kRenormControls;

// The rounds of 8·V lanes with AVX2 (the states in V vectors of 8, lane 8v + k in vector v's
// element k): per vector, one gather of the slot words, the update in vector arithmetic, the
// renormalisation bytes taken with a byte shuffle from the stream (per half of 4 lanes, 16
// bytes and a control from kRenormControls by which lanes take a first and a second byte),
// and the low bits by a gather at each value's bit offset. The V vectors are independent
// dependency chains (a gather's latency is most of a round), joined only by the stream
// position. The same values and the same cursor as RansLoop<8·V>'s rounds; decodes whole
// rounds into z while they fit `count` (a multiple of 8·V) and the stream and low bits hold
// the bytes the vector loads read, and returns how many values it decoded.
template <int V>
__attribute__((target("avx2"))) size_t RansRoundsAvx2(const RansArgs& a, Cursor<8 * V>* c, uint32_t* z, size_t count) {
  constexpr int LANES = 8 * V;
  const uint8_t* stream = a.stream;
  const uint32_t s = a.s;
  __m256i x[V];
  for (int v = 0; v < V; v++) x[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c->state + 8 * v));
  const __m256i mask12 = _mm256_set1_epi32(4095);
  const __m256i mask8 = _mm256_set1_epi32(255);
  const __m256i mask3 = _mm256_set1_epi32(7);
  const __m256i limit = _mm256_set1_epi32(static_cast<int>(kRansL));
  const __m256i limit2 = _mm256_set1_epi32(static_cast<int>(kRansL >> 8));
  const __m256i two = _mm256_set1_epi32(2);
  const __m256i lowMask = _mm256_set1_epi32(static_cast<int>((1u << s) - 1));
  const __m256i laneBits = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(static_cast<int>(s)));
  const __m128i shiftS = _mm_cvtsi32_si128(static_cast<int>(s));
  const int* slots = reinterpret_cast<const int*>(a.slot);
  size_t pos = c->pos;
  size_t i = c->i;
  const size_t end = c->i + count;
  // A vector's stream loads start at most 2·8·(V − 1) + 8 bytes in and read 16; the low bits of the
  // round's last value end before byte (i + LANES)·s/8 + 4 (each gather reads 4).
  while (i + LANES <= end && i + LANES <= a.n && pos + 16 * V + 8 <= a.streamLen && (s == 0 || ((i + LANES) * s >> 3) + 4 <= a.lowLen)) {
    __m256i sym[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      const __m256i word = _mm256_i32gather_epi32(slots, _mm256_and_si256(x[v], mask12), 4);
      const __m256i high = _mm256_srli_epi32(x[v], 12);
      const __m256i fMinus1 = _mm256_and_si256(_mm256_srli_epi32(word, 8), mask12);
      x[v] = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(fMinus1, high), high), _mm256_srli_epi32(word, 20));
      sym[v] = _mm256_and_si256(word, mask8);
    }
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      // Renormalise: lanes below 2^23 take one byte, below 2^15 two, in lane order.
      const __m256i first = _mm256_cmpgt_epi32(limit, x[v]);
      const __m256i second = _mm256_cmpgt_epi32(limit2, x[v]);
      const uint32_t m1 = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(first)));
      const uint32_t m2 = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(second)));
      const __m256i take = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_add_epi32(first, second));
      // Lanes 0–3 from the bytes at pos, 4–7 from the bytes after those 0–3 take, each half
      // by its own control (no offsets across the halves to add: measured 6% faster a value
      // than one control from a table of prefix counts).
      const uint32_t lo = (m1 & 15) | (m2 & 15) << 4;
      const uint32_t hi = (m1 >> 4) | (m2 >> 4) << 4;
      const __m256i ctrl = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(kRenormControls.ctrl[hi]), reinterpret_cast<const __m128i*>(kRenormControls.ctrl[lo]));
      const __m256i bytes = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(stream + pos + __builtin_popcount(lo)), reinterpret_cast<const __m128i*>(stream + pos));
      const __m256i pair = _mm256_shuffle_epi8(bytes, ctrl);
      x[v] = _mm256_or_si256(_mm256_sllv_epi32(x[v], _mm256_slli_epi32(take, 3)), _mm256_srlv_epi32(pair, _mm256_slli_epi32(_mm256_sub_epi32(two, take), 3)));
      pos += static_cast<size_t>(__builtin_popcount(m1) + __builtin_popcount(m2));
    }
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      __m256i value = _mm256_sll_epi32(sym[v], shiftS);
      if (s > 0) {
        const size_t bit0 = (i + 8 * v) * s;
        const __m256i bits = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(bit0 & 7)), laneBits);
        const int* base = reinterpret_cast<const int*>(a.low + (bit0 >> 3));
        const __m256i words = _mm256_i32gather_epi32(base, _mm256_srli_epi32(bits, 3), 1);
        value = _mm256_or_si256(value, _mm256_and_si256(_mm256_srlv_epi32(words, _mm256_and_si256(bits, mask3)), lowMask));
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(z + (i - c->i) + 8 * v), value);
    }
    i += LANES;
  }
  const size_t done = i - c->i;
  for (int v = 0; v < V; v++) _mm256_storeu_si256(reinterpret_cast<__m256i*>(c->state + 8 * v), x[v]);
  c->pos = pos;
  c->i = i;
  return done;
}
#endif

// Runs RansLoop with the lane count the page was written with.
template <typename Emit>
__attribute__((always_inline)) inline double RansLoopLanes(const RansArgs& a, Emit emit) {
  return WithLanes(a.lanes, [&](auto lanes) __attribute__((always_inline)) {
    Cursor<decltype(lanes)::value> c;
    return StartCursor(a, &c) ? RansLoop<decltype(lanes)::value>(a, c, emit) : 0;
  });
}

// Coded values a block of the integer fold holds (on the stack, a multiple of every lane count).
constexpr size_t kFoldBlock = 512;

// out[i] = out[i] / divisor, IEEE division lane by lane (the same bits as one at a time), in
// vectors of 8 doubles: the clone for the CPU at hand is picked when the addon loads
// (AVX-512, AVX2, or the x86-64 baseline's SSE2).
#if defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
__attribute__((noinline)) void DivideAll(double* out, size_t count, double divisor) {
  typedef double V8 __attribute__((vector_size(64), aligned(8)));
  size_t i = 0;
  const V8 d = {divisor, divisor, divisor, divisor, divisor, divisor, divisor, divisor};
  for (; i + 8 <= count; i += 8) {
    V8 v;
    std::memcpy(&v, out + i, sizeof v);
    v = v / d;
    std::memcpy(out + i, &v, sizeof v);
  }
  for (; i < count; i++) out[i] = out[i] / divisor;
}

// The fold of deltaRans in its own frame (see RansLoop), the JS twin's double arithmetic
// (x += d · step, out = x / divisor) one value at a time: for pages whose sums could leave
// the exact integers (the JS reader refuses those before calling; kept for any other caller).
template <bool ZIGZAG>
__attribute__((noinline)) double DeltaRansFoldDoubles(const RansArgs& a, double x, double step, double divisor, double* out) {
  return RansLoopLanes(a, [&](size_t i, uint32_t z) {
    x += static_cast<double>(DeltaOf<ZIGZAG>(z)) * step;
    out[i] = x / divisor;
    return true;
  });
}

#if QUIVER_RANS_AVX2
// The integer fold and DivideAll in one AVX2 pass: the deltas 8 at a time as doubles (exact: every
// partial sum of a page's deltas, in any grouping, is an integer of at most 2^53, see
// DeltaRansFold), their prefix sums within the 8 off the dependency chain, then the running
// sum added and divided: the chain is one add and one broadcast per 8 values.
// Prefix sums of 4 doubles: [a, a+b, a+b+c, a+b+c+d].
__attribute__((target("avx2"), always_inline)) inline __m256d Prefix4(__m256d x, __m256d zero) {
  x = _mm256_add_pd(x, _mm256_blend_pd(_mm256_permute4x64_pd(x, 0x90), zero, 0x1));  // + [0, a, b, c]
  return _mm256_add_pd(x, _mm256_blend_pd(_mm256_permute4x64_pd(x, 0x40), zero, 0x3));  // + [0, 0, a, a+b]
}

template <bool ZIGZAG>
__attribute__((target("avx2"))) int64_t FoldAvx2(const uint32_t* z, size_t count, int64_t v, int64_t step, double divisor, double* out) {
  const __m256d stepV = _mm256_set1_pd(static_cast<double>(step));
  const __m256d div = _mm256_set1_pd(divisor);
  const __m256d zero = _mm256_setzero_pd();
  const __m256i oneI = _mm256_set1_epi32(1);
  __m256d carry = _mm256_set1_pd(static_cast<double>(v));
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256i zi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(z + i));
    if (ZIGZAG) zi = _mm256_xor_si256(_mm256_srli_epi32(zi, 1), _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_and_si256(zi, oneI)));
    // Non-zigzag values are below 2^31, so reading them as int32 is exact too.
    __m256d lo = _mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(zi)), stepV);
    __m256d hi = _mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(zi, 1)), stepV);
    lo = Prefix4(lo, zero);
    hi = _mm256_add_pd(Prefix4(hi, zero), _mm256_permute4x64_pd(lo, 0xff));
    lo = _mm256_add_pd(lo, carry);
    hi = _mm256_add_pd(hi, carry);
    carry = _mm256_permute4x64_pd(hi, 0xff);
    if (divisor != 1) {
      lo = _mm256_div_pd(lo, div);
      hi = _mm256_div_pd(hi, div);
    }
    _mm256_storeu_pd(out + i, lo);
    _mm256_storeu_pd(out + i + 4, hi);
  }
  v = static_cast<int64_t>(_mm256_cvtsd_f64(carry));
  for (; i < count; i++) {
    v += DeltaOf<ZIGZAG>(z[i]) * step;
    out[i] = static_cast<double>(v) / divisor;
  }
  return v;
}
#endif

// 1/divisor (rounded) when divisor is ALP's 10^e for 1 ≤ e ≤ 14, the divisors AlpQuotient is
// checked for; else 0 (the folds divide).
inline double AlpReciprocal(double divisor) {
  double p = 1;
  for (int e = 1; e <= 14; e++) {
    p *= 10;
    if (divisor == p) return 1 / p;
  }
  return 0;
}

#if QUIVER_RANS_AVX2
#include "rans_avx512.h"
#endif

// The fold when every running sum is an exact integer (first and step integers, |first| +
// n · step · valueMax ≤ 2^53, which the JS reader requires of every page): then the JS
// twin's doubles hold exactly the int64 sums, so summing in int64 (a one-cycle dependency
// instead of a floating add's three or four) and converting gives the same bits, and the
// divisions, no longer on the chain, run as vectors a block at a time.
template <bool ZIGZAG, int LANES>
__attribute__((noinline)) double DeltaRansFoldInts(const RansArgs& a, int64_t v, int64_t step, double divisor, double* out) {
  Cursor<LANES> c;
  if (!StartCursor(a, &c)) return 0;
  size_t base = 0;
#if QUIVER_RANS_AVX2
  if constexpr (LANES >= 8) {
    // Blocks of coded values from the vector rounds, folded; the scalar loop finishes the page.
    uint32_t block[kFoldBlock];
    const double reciprocal = AlpReciprocal(divisor);
    while (kHasAvx2) {
      const size_t got = RansRoundsAvx2<LANES / 8>(a, &c, block, kFoldBlock);
      if (got == 0) break;
      v = kHasAvx512 ? FoldAvx512<ZIGZAG>(block, got, v, step, divisor, reciprocal, out + base) : FoldAvx2<ZIGZAG>(block, got, v, step, divisor, out + base);
      base += got;
      if (got < kFoldBlock) break;
    }
  }
#endif
  const double status = RansLoop<LANES>(a, c, [&](size_t i, uint32_t z) {
    v += DeltaOf<ZIGZAG>(z) * step;
    out[i] = static_cast<double>(v);
    if (i + 1 - base == kFoldBlock) {
      if (divisor != 1) DivideAll(out + base, kFoldBlock, divisor);
      base += kFoldBlock;
    }
    return true;
  });
  if (status < 0 && base < a.n && divisor != 1) DivideAll(out + base, a.n - base, divisor);
  return status;
}

template <bool ZIGZAG>
double DeltaRansFold(const RansArgs& a, double first, double step, double divisor, double* out) {
  const double exactMax = 9007199254740992.0;  // 2^53
  const bool exact = std::trunc(first) == first && std::trunc(step) == step && step >= 0 &&
                     std::fabs(first) + static_cast<double>(a.n) * step * a.valueMax <= exactMax;
  if (!exact) return DeltaRansFoldDoubles<ZIGZAG>(a, first, step, divisor, out);
  return WithLanes(a.lanes, [&](auto lanes) {
    return DeltaRansFoldInts<ZIGZAG, decltype(lanes)::value>(a, static_cast<int64_t>(first), static_cast<int64_t>(step), divisor, out);
  });
}

// The dictionary lookup of ransDict in its own frame (see RansLoop).
__attribute__((noinline)) double RansDictMap(const RansArgs& a, const double* dictionary, size_t dictLen, double* out) {
  return RansLoopLanes(a, [&](size_t i, uint32_t z) {
    if (z >= dictLen) return false;
    std::memcpy(out + i, dictionary + z, sizeof(double));
    return true;
  });
}

}  // namespace
}  // namespace quiver_rans
