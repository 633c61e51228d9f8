// Shared by the addon's source files: typed-array views of N-API arguments, and the
// registration of the rANS kernels (rans.cc) into the addon's exports (quiver_native.cc).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace quiver {

inline double* F64(const Napi::Value& v, size_t* n) {
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  *n = a.ElementLength();
  return a.Data();
}
inline const uint8_t* U8(const Napi::Value& v, size_t* n) {
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  *n = a.ElementLength();
  return a.Data();
}

// Adds deltaRans, ransDict and ransEncode (rans.cc).
void InitRans(Napi::Env env, Napi::Object exports);

}  // namespace quiver
