// The AVX-512 fold of the rANS delta decode (rans_kernel.h includes this file after its AVX2
// loops): FoldAvx2's values in vectors of 8 doubles with ALP's division by multiply-adds,
// picked at run time on CPUs with AVX-512F and FMA. (AVX-512 rounds, one 16-lane gather and
// a byte expand-load for the renormalisation, measured slower than the AVX2 rounds' two
// 8-lane chains: a round is one dependency chain, gather latency first.)
#pragma once

#define QUIVER_AVX512_TARGET __attribute__((target("avx512f,fma")))

// Whether the AVX-512 fold runs: the AVX2 ones do (see HasAvx2), the CPU has every extension
// it uses, and QUIVER_NO_AVX512 is not 1 (a test compares it with the AVX2 fold that way).
bool HasAvx512() {
  if (!kHasAvx2) return false;
  const char* off = std::getenv("QUIVER_NO_AVX512");
  if (off != nullptr && std::strcmp(off, "1") == 0) return false;
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
}
const bool kHasAvx512 = HasAvx512();

// x / b for ALP's b = 10^e (1 ≤ e ≤ 14) and integers |x| ≤ 2^53, given y = RN(1/b): the
// correctly rounded quotient by Markstein's correction (q = x·y, r = x − q·b exact by FMA,
// q + r·y rounded once), the bits IEEE division gives (checked exhaustively in spirit by
// alpQuotientCheck, bench/queries/alp-quotient.ts) at three multiply-adds instead of a
// division (~0.7 ns a value).
QUIVER_AVX512_TARGET inline __m512d AlpQuotient(__m512d x, __m512d b, __m512d y) {
  const __m512d q = _mm512_mul_pd(x, y);
  return _mm512_fmadd_pd(_mm512_fnmadd_pd(q, b, x), y, q);
}

// Prefix sums of 8 doubles (exact here: integers of at most 2^53).
QUIVER_AVX512_TARGET inline __m512d Prefix8(__m512d x) {
  const __m512i zero = _mm512_setzero_si512();
  __m512i v = _mm512_castpd_si512(x);
  x = _mm512_add_pd(x, _mm512_castsi512_pd(_mm512_alignr_epi64(v, zero, 7)));
  v = _mm512_castpd_si512(x);
  x = _mm512_add_pd(x, _mm512_castsi512_pd(_mm512_alignr_epi64(v, zero, 6)));
  v = _mm512_castpd_si512(x);
  return _mm512_add_pd(x, _mm512_castsi512_pd(_mm512_alignr_epi64(v, zero, 4)));
}

// FoldAvx2 in vectors of 8 doubles, 16 coded values a step; the quotient x / divisor by
// QuotientOf (AlpQuotient: the division's bits, see there) when `reciprocal` is not 0.
template <bool ZIGZAG>
QUIVER_AVX512_TARGET int64_t FoldAvx512(const uint32_t* z, size_t count, int64_t v, int64_t step, double divisor, double reciprocal, double* out) {
  const __m512d stepV = _mm512_set1_pd(static_cast<double>(step));
  const __m512d div = _mm512_set1_pd(divisor);
  const __m512d y = _mm512_set1_pd(reciprocal);
  const __m512i oneI = _mm512_set1_epi32(1);
  const __m512i last = _mm512_set1_epi64(7);
  __m512d carry = _mm512_set1_pd(static_cast<double>(v));
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    __m512i zi = _mm512_loadu_si512(z + i);
    if (ZIGZAG) zi = _mm512_xor_si512(_mm512_srli_epi32(zi, 1), _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_and_si512(zi, oneI)));
    __m512d lo = Prefix8(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(zi)), stepV));
    __m512d hi = Prefix8(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(zi, 1)), stepV));
    lo = _mm512_add_pd(lo, carry);
    hi = _mm512_add_pd(hi, _mm512_permutexvar_pd(last, lo));
    carry = _mm512_permutexvar_pd(last, hi);
    if (reciprocal != 0) {
      lo = AlpQuotient(lo, div, y);
      hi = AlpQuotient(hi, div, y);
    } else if (divisor != 1) {
      lo = _mm512_div_pd(lo, div);
      hi = _mm512_div_pd(hi, div);
    }
    _mm512_storeu_pd(out + i, lo);
    _mm512_storeu_pd(out + i + 8, hi);
  }
  v = static_cast<int64_t>(_mm_cvtsd_f64(_mm512_castpd512_pd128(carry)));
  for (; i < count; i++) {
    v += DeltaOf<ZIGZAG>(z[i]) * step;
    out[i] = static_cast<double>(v) / divisor;
  }
  return v;
}

// How many of x[0 … n) (n a multiple of 8) AlpQuotient gives other bits than IEEE division
// by b (for alpQuotientCheck).
QUIVER_AVX512_TARGET size_t AlpQuotientMismatches(const double* x, size_t n, double b) {
  const __m512d bv = _mm512_set1_pd(b);
  const __m512d y = _mm512_set1_pd(1 / b);
  size_t bad = 0;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const __m512d v = _mm512_loadu_pd(x + i);
    const __mmask8 m = _mm512_cmpneq_epi64_mask(_mm512_castpd_si512(_mm512_div_pd(v, bv)), _mm512_castpd_si512(AlpQuotient(v, bv, y)));
    bad += static_cast<size_t>(__builtin_popcount(m));
  }
  return bad;
}
