// The rANS kernels (src/format/encodings/rans.ts; its JS twins decode and encode the same
// pages to the same bits): deltaRans, ransDict, ransEncode. The decoders repeat the JS
// loops' arithmetic value for value (IEEE double, no FMA contraction: see binding.gyp), or
// an integer arithmetic that gives the same bits where it is exact (DeltaRansFold).
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

}  // namespace

namespace quiver {

void InitRans(Napi::Env env, Napi::Object exports) {
  exports.Set("deltaRans", Napi::Function::New(env, DeltaRans, "deltaRans"));
  exports.Set("ransDict", Napi::Function::New(env, RansDict, "ransDict"));
  exports.Set("ransEncode", Napi::Function::New(env, RansEncode, "ransEncode"));
#if QUIVER_RANS_AVX2
  exports.Set("ransSimd", Napi::Boolean::New(env, kHasAvx2));
#else
  exports.Set("ransSimd", Napi::Boolean::New(env, false));
#endif
}

}  // namespace quiver
