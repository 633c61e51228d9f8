// The rANS kernels (src/format/encodings/rans.ts; its JS twins decode and encode the same
// pages to the same bits): deltaRans, ransDict, ransEncode. The decoders repeat the JS
// loops' arithmetic value for value (IEEE double, no FMA contraction: see binding.gyp), or
// an integer arithmetic that gives the same bits where it is exact (DeltaRansFold).
#include <cmath>
#include <cstring>
#include <string>

#include "rans_kernel.h"
#include "views.h"

namespace {

using quiver::F64;
using quiver::U8;
using namespace quiver_rans;

bool ParseRansArgs(const Napi::CallbackInfo& info, const char* name, RansArgs* a) {
  Napi::Uint16Array freqArray = info[0].As<Napi::Uint16Array>();
  a->stream = U8(info[1], &a->streamLen);
  a->low = U8(info[2], &a->lowLen);
  a->s = info[3].As<Napi::Number>().Uint32Value();
  a->n = static_cast<size_t>(info[4].As<Napi::Number>().DoubleValue());
  a->lanes = info[5].As<Napi::Number>().Uint32Value();
  if (a->s > 23 || freqArray.ElementLength() != 256 || !BuildSlots(freqArray.Data(), a) || !KnownLanes(a->lanes) ||
      a->streamLen < 4 * a->lanes || a->lowLen < (a->n * a->s + 7) / 8) {
    Napi::RangeError::New(info.Env(), std::string(name) + ": bad arguments").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// deltaRans(freq: Uint16Array, stream: Uint8Array, low: Uint8Array, s, n, lanes, first, step, divisor, out, zigzag = true): number
// Folds the coded values as deltas: zigzagged (signed) ones by default, as they are with
// zigzag false (the non-negative deltas of delta>gcd>rans).
// Returns -1 when the stream decodes cleanly (ends at state 2^23 with every byte used), else
// the index of the value where it ran out of bytes, or n when it ended in the wrong state.
Napi::Value DeltaRans(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RansArgs a;
  if (!ParseRansArgs(info, "deltaRans", &a)) return env.Undefined();
  const double first = info[6].As<Napi::Number>().DoubleValue();
  const double step = info[7].As<Napi::Number>().DoubleValue();
  const double divisor = info[8].As<Napi::Number>().DoubleValue();
  size_t outLen = 0;
  double* out = F64(info[9], &outLen);
  if (outLen < a.n) {
    Napi::RangeError::New(env, "deltaRans: out is shorter than n").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const bool zigzag = info.Length() <= 10 || info[10].IsUndefined() || info[10].ToBoolean().Value();
  const double status = zigzag ? DeltaRansFold<true>(a, first, step, divisor, out) : DeltaRansFold<false>(a, first, step, divisor, out);
  return Napi::Number::New(env, status);
}

// ransDict(freq, stream, low, s, n, lanes, dictionary: Float64Array, out: Float64Array): number
// The rANS values as they were coded, each an index into `dictionary`: out[i] = dictionary[z],
// copied as 8 raw bytes (so int64 dictionaries pass through Float64Array views unchanged).
// Returns -1 when clean; i when the stream ran out at value i or value i's index is not in
// the dictionary; n when the stream ended in the wrong state. The JS twin is ransDictJs.
Napi::Value RansDict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RansArgs a;
  if (!ParseRansArgs(info, "ransDict", &a)) return env.Undefined();
  size_t dictLen = 0, outLen = 0;
  const double* dictionary = F64(info[6], &dictLen);
  double* out = F64(info[7], &outLen);
  if (outLen < a.n) {
    Napi::RangeError::New(env, "ransDict: out is shorter than n").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, RansDictMap(a, dictionary, dictLen, out));
}

// The encoder (encodeRans; its JS twin is ransEncodeJs).
// ransEncode(z: Float64Array, s, freq: Uint16Array(256), cum: Uint32Array(257), out: Uint8Array, low: Uint8Array, lanes = 1): number
// rANS-codes z (integers below 2^31, each z >> s a symbol with freq > 0) backwards into the
// end of `out` and packs each value's low s bits LSB-first into `low`. With k lanes (1, 2, 4,
// 8, 16 or 32), value i goes through state i % k (the decoder runs k independent dependency chains). Returns
// where the stream (the lanes' initial states first, lane 0 first) starts in `out`; -1 when
// `out` is too short; -2 when a value has no symbol in the table.
Napi::Value RansEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = 0, outLen = 0, lowLen = 0;
  const double* z = F64(info[0], &n);
  const uint32_t s = info[1].As<Napi::Number>().Uint32Value();
  Napi::Uint16Array freqArray = info[2].As<Napi::Uint16Array>();
  Napi::Uint32Array cumArray = info[3].As<Napi::Uint32Array>();
  Napi::Uint8Array outArray = info[4].As<Napi::Uint8Array>();
  Napi::Uint8Array lowArray = info[5].As<Napi::Uint8Array>();
  const uint32_t lanes = info.Length() <= 6 || info[6].IsUndefined() ? 1 : info[6].As<Napi::Number>().Uint32Value();
  outLen = outArray.ElementLength();
  lowLen = lowArray.ElementLength();
  if (s > 23 || !KnownLanes(lanes) || freqArray.ElementLength() != 256 || cumArray.ElementLength() < 257 || lowLen < (n * s + 7) / 8) {
    Napi::RangeError::New(env, "ransEncode: bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint16_t* freq = freqArray.Data();
  const uint32_t* cum = cumArray.Data();
  uint8_t* out = outArray.Data();
  uint8_t* low = lowArray.Data();
  uint32_t state[32];
  for (uint32_t& x : state) x = kRansL;
  size_t pos = outLen;
  for (size_t i = n; i-- > 0;) {
    uint32_t& x = state[i & (lanes - 1)];
    const double v = z[i];
    if (!(v >= 0 && v < 2147483648.0)) return Napi::Number::New(env, -2);
    const uint32_t sym = static_cast<uint32_t>(v) >> s;
    if (sym >= 256 || freq[sym] == 0) return Napi::Number::New(env, -2);
    const uint32_t f = freq[sym];
    const uint32_t xMax = ((kRansL >> 12) << 8) * f;
    while (x >= xMax) {
      if (pos == 0) return Napi::Number::New(env, -1);
      out[--pos] = static_cast<uint8_t>(x & 0xff);
      x >>= 8;
    }
    x = ((x / f) << 12) + (x % f) + cum[sym];
  }
  if (pos < 4 * lanes) return Napi::Number::New(env, -1);
  for (uint32_t l = lanes; l-- > 0;) {
    const uint32_t x = state[l];
    pos -= 4;
    out[pos] = x & 0xff; out[pos + 1] = (x >> 8) & 0xff; out[pos + 2] = (x >> 16) & 0xff; out[pos + 3] = x >> 24;
  }
  if (s > 0) {
    const uint64_t mask = (uint64_t(1) << s) - 1;
    uint64_t acc = 0;
    uint32_t bits = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
      acc |= (static_cast<uint64_t>(z[i]) & mask) << bits;
      bits += s;
      while (bits >= 8) { low[at++] = static_cast<uint8_t>(acc & 0xff); acc >>= 8; bits -= 8; }
    }
    if (bits > 0) low[at] = static_cast<uint8_t>(acc & 0xff);
  }
  return Napi::Number::New(env, static_cast<double>(pos));
}

// alpQuotientCheck(e, mode, count, seed): [checked, mismatches], or null without the AVX-512 fold.
// Compares the AVX-512 fold's ALP quotient (AlpQuotient: multiply-adds) with IEEE division by
// 10^e, bit for bit, on integers |x| ≤ 2^53 (the fold's range): mode 'exhaustive' every x with
// |x| ≤ count; 'random' count integers of uniformly random bit length (1 … 53) and sign;
// 'adversarial' count integers next to (the four nearest) x = t · 10^e for t a midpoint between
// two adjacent doubles (the quotients nearest a rounding tie; no x in range has a tie itself:
// t needs 54 significant bits, so t · 10^e ≥ 2^53 · 5^e). For bench/queries/alp-quotient.ts
// (hundreds of millions per exponent) and a fast test in the suite.
Napi::Value AlpQuotientCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#if QUIVER_RANS_AVX2
  const uint32_t e = info[0].As<Napi::Number>().Uint32Value();
  const std::string mode = info[1].As<Napi::String>().Utf8Value();
  const double count = info[2].As<Napi::Number>().DoubleValue();
  uint64_t seed = static_cast<uint64_t>(info[3].As<Napi::Number>().DoubleValue());
  if (e > 14 || !(count >= 0 && count <= 9007199254740992.0) || (mode != "exhaustive" && mode != "random" && mode != "adversarial")) {
    Napi::RangeError::New(env, "alpQuotientCheck: bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!kHasAvx512) return env.Null();
  const double exactMax = 9007199254740992.0;  // 2^53
  double b = 1;
  for (uint32_t k = 0; k < e; k++) b *= 10;
  auto next = [&seed]() {  // splitmix64
    uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  constexpr size_t kBlock = 4096;
  double buf[kBlock];
  size_t fill = 0;
  double checked = 0, bad = 0;
  auto put = [&](double x) {
    // The fold's zeros are +0 (its sums start from an int64 and add integers): −0, whose
    // quotient by multiply-adds would come out +0, never reaches it.
    buf[fill++] = x == 0 ? 0 : x;
    if (fill == kBlock) { bad += static_cast<double>(AlpQuotientMismatches(buf, fill, b)); checked += static_cast<double>(fill); fill = 0; }
  };
  if (mode == "exhaustive") {
    for (double x = -count; x <= count; x++) put(x);
  } else if (mode == "random") {
    for (double k = 0; k < count; k++) {
      const uint64_t r = next();
      const uint32_t bits = 1 + static_cast<uint32_t>(r % 53);
      const double x = static_cast<double>(next() >> (64 - bits)) + ((r >> 32) % 1024 == 0 ? 1 : 0);  // now and then 2^bits itself
      put((r >> 63) ? -x : x);
    }
  } else {
    // Quotients from 2^-ceil(log2 b) up to 2^53 / b: t = (2M + 1) · 2^(E − 1), M of 53 bits.
    const int kMin = -static_cast<int>(std::ceil(std::log2(b)));
    const int kMax = static_cast<int>(std::floor(53 - std::log2(b)));
    for (double k = 0; k < count; k += 4) {
      const uint64_t r = next();
      const int E = kMin + static_cast<int>(r % static_cast<uint64_t>(kMax - kMin + 1)) - 52;
      const uint64_t M = (uint64_t(1) << 52) | (next() >> 12);
      const unsigned __int128 num = static_cast<unsigned __int128>(2 * M + 1) * static_cast<uint64_t>(b);
      const int shift = 1 - E;
      const unsigned __int128 x0 = shift >= 128 ? 0 : num >> shift;
      for (int d = -1; d <= 2; d++) {
        const double x = static_cast<double>(static_cast<uint64_t>(x0)) + d;
        if (x < 0 || x > exactMax) continue;
        put((r >> 63) ? -x : x);
      }
    }
  }
  checked += static_cast<double>(fill);
  while (fill % 8 != 0) buf[fill++] = 0;  // zeros, whose quotient agrees: not counted
  bad += static_cast<double>(AlpQuotientMismatches(buf, fill, b));
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(uint32_t(0), Napi::Number::New(env, checked));
  result.Set(uint32_t(1), Napi::Number::New(env, bad));
  return result;
#else
  return env.Null();
#endif
}

}  // namespace

namespace quiver {

void InitRans(Napi::Env env, Napi::Object exports) {
  exports.Set("deltaRans", Napi::Function::New(env, DeltaRans, "deltaRans"));
  exports.Set("ransDict", Napi::Function::New(env, RansDict, "ransDict"));
  exports.Set("ransEncode", Napi::Function::New(env, RansEncode, "ransEncode"));
  exports.Set("alpQuotientCheck", Napi::Function::New(env, AlpQuotientCheck, "alpQuotientCheck"));
#if QUIVER_RANS_AVX2
  exports.Set("ransSimd", Napi::Boolean::New(env, kHasAvx2));
  exports.Set("ransAvx512", Napi::Boolean::New(env, kHasAvx512));
#else
  exports.Set("ransSimd", Napi::Boolean::New(env, false));
  exports.Set("ransAvx512", Napi::Boolean::New(env, false));
#endif
}

}  // namespace quiver
