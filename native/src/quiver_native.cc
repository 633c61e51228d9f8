// Quiver's N-API addon: read-only memory maps of chunk files, read through a guarded copy.
//
// mapFile(path, advice?) -> { map, size }: the whole file mapped PROT_READ/MAP_SHARED; `map`
// is an opaque handle (JavaScript never sees the mapped bytes) whose finalizer munmaps. The
// fd is closed at once (the mapping keeps the file alive).
// copyRange(map, offset, length) -> Uint8Array: a copy of the range.
// copyRangeInto(map, offset, length, dest): the same copy into the caller's Uint8Array.
//
// Why a guarded copy: a mapped file that shrinks after it was mapped (truncated by another
// process, a full disk, a network filesystem) raises SIGBUS on the next access to a page
// past its new end, and SIGBUS kills the process. copyRange copies under a SIGBUS handler
// that jumps back out of the copy (sigsetjmp/siglongjmp) when the fault lies in the range
// being copied, and throws an error with code "ETRUNC" instead; any other SIGBUS goes to the
// handler installed before ours (or the default action, as if ours did not exist). Because
// JavaScript only ever reads mapped bytes through these copies, no access is unguarded.
//
// Errors are thrown as JS Errors carrying `code` (the errno name, e.g. "ENOENT") and
// `syscall`, like node:fs errors, so the JS layer maps them the same way as its pure-JS
// twin (positional reads).
#include <napi.h>

#include "views.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <csetjmp>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <mutex>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using quiver::F64;
using quiver::U8;

namespace {

const char* ErrnoName(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EISDIR: return "EISDIR";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    default: return "EIO";
  }
}

Napi::Error ErrorWithCode(Napi::Env env, const std::string& message, const char* code, int err, const char* syscall, const std::string& path) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.Set("path", Napi::String::New(env, path));
  return error;
}

Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& path) {
  ErrorWithCode(env, std::string(ErrnoName(err)) + ": " + std::strerror(err) + ", " + syscall + " '" + path + "'", ErrnoName(err), err, syscall, path)
      .ThrowAsJavaScriptException();
  return env.Undefined();
}

struct Mapping {
  uint8_t* data;
  size_t length;
  std::string path;
};

void Unmap(Napi::Env /*env*/, Mapping* mapping) {
  if (mapping->length > 0) munmap(mapping->data, mapping->length);
  delete mapping;
}

// The copy in progress on this thread, if any. Initial-exec TLS: reading it in the signal
// handler must not allocate (the general-dynamic model may, on a thread's first access).
struct Guard {
  const uint8_t* begin;
  const uint8_t* end;
  sigjmp_buf jump;
};
thread_local Guard* current_guard __attribute__((tls_model("initial-exec"))) = nullptr;
struct sigaction previous_sigbus;
std::once_flag sigbus_once;

void OnSigbus(int sig, siginfo_t* info, void* context) {
  Guard* guard = current_guard;
  const uint8_t* at = static_cast<const uint8_t*>(info->si_addr);
  if (guard != nullptr && at >= guard->begin && at < guard->end) siglongjmp(guard->jump, 1);
  // Not a fault of a guarded copy: as if this handler did not exist.
  if (previous_sigbus.sa_flags & SA_SIGINFO) {
    previous_sigbus.sa_sigaction(sig, info, context);
  } else if (previous_sigbus.sa_handler == SIG_DFL || previous_sigbus.sa_handler == SIG_IGN) {
    // Back to the previous disposition; returning re-runs the faulting access, which then
    // takes the default action.
    sigaction(SIGBUS, &previous_sigbus, nullptr);
  } else {
    previous_sigbus.sa_handler(sig);
  }
}

void InstallSigbusHandler() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_sigaction = OnSigbus;
  // SA_NODEFER: SIGBUS stays unblocked after the handler jumps out, so sigsetjmp need not
  // save the signal mask (no system call per copy).
  action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, &previous_sigbus);
}

// mapFile(path: string, advice?: 'normal' | 'random' | 'sequential' | 'willneed'): { map, size }
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "mapFile(path: string, advice?: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, errno, "open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) { int err = errno; close(fd); return ThrowErrno(env, err, "fstat", path); }
  if (S_ISDIR(st.st_mode)) { close(fd); return ThrowErrno(env, EISDIR, "mmap", path); }
  size_t length = static_cast<size_t>(st.st_size);
  void* data = nullptr;
  if (length > 0) {
    data = mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
    int err = errno;
    if (data == MAP_FAILED) { close(fd); return ThrowErrno(env, err, "mmap", path); }
    if (info.Length() > 1 && info[1].IsString()) {
      std::string advice = info[1].As<Napi::String>().Utf8Value();
      int flag = advice == "random" ? MADV_RANDOM : advice == "sequential" ? MADV_SEQUENTIAL
               : advice == "willneed" ? MADV_WILLNEED : MADV_NORMAL;
      madvise(data, length, flag);  // a hint: failure is harmless
    }
  }
  close(fd);
  std::call_once(sigbus_once, InstallSigbusHandler);
  Napi::Object out = Napi::Object::New(env);
  out.Set("map", Napi::External<Mapping>::New(env, new Mapping{static_cast<uint8_t*>(data), length, path}, Unmap));
  out.Set("size", Napi::Number::New(env, static_cast<double>(length)));
  return out;
}

// Copies n bytes of the mapping at offset to dest under the SIGBUS guard; false (and an
// ETRUNC error thrown) when the file shrank under the range.
bool GuardedCopy(Napi::Env env, Mapping* mapping, size_t offset, size_t n, uint8_t* dest) {
  if (n == 0) return true;
  Guard guard;
  guard.begin = mapping->data + offset;
  guard.end = guard.begin + n;
  if (sigsetjmp(guard.jump, 0) == 0) {
    // The fences keep the compiler from moving the guard's stores across the copy (memcpy
    // touches no global, so without them the first store is dead to the optimiser and goes).
    current_guard = &guard;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    std::memcpy(dest, guard.begin, n);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    current_guard = nullptr;
    return true;
  }
  current_guard = nullptr;
  ErrorWithCode(env, "ETRUNC: the file shrank after it was mapped: bytes " + std::to_string(offset) + "+" + std::to_string(n) +
                         " of its " + std::to_string(mapping->length) + " are gone, read '" + mapping->path + "'",
                "ETRUNC", EIO, "read", mapping->path)
      .ThrowAsJavaScriptException();
  return false;
}

// The mapping and range of copyRange/copyRangeInto's first three arguments, or null (a
// TypeError or RangeError thrown).
Mapping* RangeArgs(const Napi::CallbackInfo& info, const char* usage, size_t* offset, size_t* n) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsExternal() || !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return nullptr;
  }
  Mapping* mapping = info[0].As<Napi::External<Mapping>>().Data();
  const double at = info[1].As<Napi::Number>().DoubleValue();
  const double length = info[2].As<Napi::Number>().DoubleValue();
  if (!(at >= 0 && length >= 0 && at + length <= static_cast<double>(mapping->length))) {
    Napi::RangeError::New(env, "copyRange: range " + std::to_string(at) + "+" + std::to_string(length) + " outside the mapping of " + std::to_string(mapping->length) + " bytes").ThrowAsJavaScriptException();
    return nullptr;
  }
  *offset = static_cast<size_t>(at);
  *n = static_cast<size_t>(length);
  return mapping;
}

// copyRange(map, offset: number, length: number): Uint8Array
Napi::Value CopyRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t offset = 0, n = 0;
  Mapping* mapping = RangeArgs(info, "copyRange(map, offset: number, length: number)", &offset, &n);
  if (mapping == nullptr) return env.Undefined();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, n);
  if (!GuardedCopy(env, mapping, offset, n, static_cast<uint8_t*>(buffer.Data()))) return env.Undefined();
  return Napi::Uint8Array::New(env, n, buffer, 0);
}

// copyRangeInto(map, offset: number, length: number, dest: Uint8Array): void — the same copy
// into memory the caller owns (a reused read buffer: no new ArrayBuffer per read). dest must
// hold exactly `length` bytes.
Napi::Value CopyRangeInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t offset = 0, n = 0;
  const char* usage = "copyRangeInto(map, offset: number, length: number, dest: Uint8Array)";
  Mapping* mapping = RangeArgs(info, usage, &offset, &n);
  if (mapping == nullptr) return env.Undefined();
  if (info.Length() < 4 || !info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, usage).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t destLength = 0;
  uint8_t* dest = const_cast<uint8_t*>(U8(info[3], &destLength));
  if (destLength != n) {
    Napi::RangeError::New(env, "copyRangeInto: destination of " + std::to_string(destLength) + " bytes for a range of " + std::to_string(n)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  GuardedCopy(env, mapping, offset, n, dest);
  return env.Undefined();
}

// ---- Decode kernels (src/format/encodings/bitsplit.ts, rans.ts): the same arithmetic as the
// JS loops, value for value (IEEE double, no FMA contraction: see binding.gyp), so a page
// decodes to identical bits with or without the addon.

// deltaBitsplit(low: Uint8Array | null, packed: Uint8Array, highBits, n, first, step, divisor, out: Float64Array): void
Napi::Value DeltaBitsplit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t lowLen = 0, packedLen = 0, outLen = 0;
  const uint8_t* low = info[0].IsNull() ? nullptr : U8(info[0], &lowLen);
  const uint8_t* packed = U8(info[1], &packedLen);
  const uint32_t highBits = info[2].As<Napi::Number>().Uint32Value();
  const size_t n = static_cast<size_t>(info[3].As<Napi::Number>().DoubleValue());
  double x = info[4].As<Napi::Number>().DoubleValue();
  const double step = info[5].As<Napi::Number>().DoubleValue();
  const double divisor = info[6].As<Napi::Number>().DoubleValue();
  double* out = F64(info[7], &outLen);
  if (highBits > 24 || outLen < n || (low != nullptr && lowLen < n)) {
    Napi::RangeError::New(env, "deltaBitsplit: bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint64_t mask = (uint64_t(1) << highBits) - 1;
  uint64_t acc = 0;
  uint32_t accBits = 0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    while (accBits < highBits) {
      acc |= uint64_t(at < packedLen ? packed[at] : 0) << accBits;
      at++;
      accBits += 8;
    }
    uint32_t z = static_cast<uint32_t>(((low != nullptr ? uint64_t(low[i]) : 0) | ((acc & mask) << (low != nullptr ? 8 : 0))) & 0xffffffffu);
    acc >>= highBits;
    accBits -= highBits;
    const int32_t d = static_cast<int32_t>(z >> 1) ^ -static_cast<int32_t>(z & 1);
    x += static_cast<double>(d) * step;
    out[i] = x / divisor;
  }
  return env.Undefined();
}

// deltaRunsInt64(deltas: Float64Array, lengths: Float64Array, out: BigInt64Array): void
// out[0] holds the first value; run k adds deltas[k] (an exact integer) lengths[k] times,
// with int64 wrap-around as the JS word arithmetic does. Runs were validated in JS.
Napi::Value DeltaRunsInt64(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t runs = 0, lengthsLen = 0;
  const double* deltas = F64(info[0], &runs);
  const double* lengths = F64(info[1], &lengthsLen);
  Napi::BigInt64Array outArray = info[2].As<Napi::BigInt64Array>();
  int64_t* out = outArray.Data();
  const size_t n = outArray.ElementLength();
  if (lengthsLen != runs || n == 0) {
    Napi::RangeError::New(env, "deltaRunsInt64: bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint64_t v = static_cast<uint64_t>(out[0]);
  size_t at = 1;
  for (size_t k = 0; k < runs; k++) {
    const uint64_t d = static_cast<uint64_t>(static_cast<int64_t>(deltas[k]));
    const size_t end = at + static_cast<size_t>(lengths[k]);
    if (end > n) {
      Napi::RangeError::New(env, "deltaRunsInt64: runs overflow the output").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    for (; at < end; at++) { v += d; out[at] = static_cast<int64_t>(v); }
  }
  return env.Undefined();
}

// relativeToInt64(base: bigint, rel: Float64Array, out: BigInt64Array): void — out[i] = base + rel[i]
Napi::Value RelativeToInt64(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool lossless = false;
  const uint64_t base = static_cast<uint64_t>(info[0].As<Napi::BigInt>().Int64Value(&lossless));
  size_t n = 0;
  const double* rel = F64(info[1], &n);
  Napi::BigInt64Array outArray = info[2].As<Napi::BigInt64Array>();
  if (outArray.ElementLength() < n) {
    Napi::RangeError::New(env, "relativeToInt64: output too short").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int64_t* out = outArray.Data();
  for (size_t i = 0; i < n; i++) out[i] = static_cast<int64_t>(base + static_cast<uint64_t>(static_cast<int64_t>(rel[i])));
  return env.Undefined();
}

// bitsplitOffset(planes: Uint8Array[], packed: Uint8Array, highBits, n, offset, out: Float64Array): void
Napi::Value BitsplitOffset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array planeArray = info[0].As<Napi::Array>();
  const uint32_t k = planeArray.Length();
  const uint8_t* planes[3] = {nullptr, nullptr, nullptr};
  size_t packedLen = 0, outLen = 0;
  const size_t n = static_cast<size_t>(info[3].As<Napi::Number>().DoubleValue());
  for (uint32_t j = 0; j < k && j < 3; j++) {
    size_t len = 0;
    planes[j] = U8(planeArray.Get(j), &len);
    if (len < n) { Napi::RangeError::New(env, "bitsplitOffset: short plane").ThrowAsJavaScriptException(); return env.Undefined(); }
  }
  const uint8_t* packed = U8(info[1], &packedLen);
  const uint32_t highBits = info[2].As<Napi::Number>().Uint32Value();
  const double offset = info[4].As<Napi::Number>().DoubleValue();
  double* out = F64(info[5], &outLen);
  if (k > 3 || highBits > 24 || 8 * k + highBits > 32 || outLen < n) {
    Napi::RangeError::New(env, "bitsplitOffset: bad arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint64_t mask = (uint64_t(1) << highBits) - 1;
  const uint32_t shift = 8 * k;
  uint64_t acc = 0;
  uint32_t accBits = 0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t v = 0;
    for (uint32_t j = 0; j < k; j++) v |= uint32_t(planes[j][i]) << (8 * j);
    if (highBits > 0) {
      while (accBits < highBits) { acc |= uint64_t(at < packedLen ? packed[at] : 0) << accBits; at++; accBits += 8; }
      v |= static_cast<uint32_t>((acc & mask) << shift);
      acc >>= highBits;
      accBits -= highBits;
    }
    out[i] = static_cast<double>(v) + offset;
  }
  return env.Undefined();
}

// keepFreedMemory(mmapThresholdBytes, trimThresholdBytes) → whether it applied. glibc returns
// freed blocks above its mmap threshold (and the heap's free top above its trim threshold) to
// the kernel, so the next decode's output buffers are fresh pages: a page fault and zeroing
// per 4 KiB, which dominated uncached decoding. Raising both thresholds keeps freed buffers in
// the allocator for reuse (bounded: at most trimThreshold of free heap top is kept; blocks above
// mmapThreshold still come from and go back to the kernel). Not applied when the user set
// glibc's own MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_, nor off glibc.
Napi::Value KeepFreedMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#if defined(__GLIBC__)
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "keepFreedMemory(mmapThreshold, trimThreshold)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const double mmap = info[0].As<Napi::Number>().DoubleValue();
  const double trim = info[1].As<Napi::Number>().DoubleValue();
  if (!(mmap >= 0 && mmap <= 1 << 30) || !(trim >= 0 && trim <= 1 << 30)) {
    Napi::RangeError::New(env, "keepFreedMemory: thresholds must lie in [0, 1 GiB]").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (getenv("MALLOC_MMAP_THRESHOLD_") != nullptr || getenv("MALLOC_TRIM_THRESHOLD_") != nullptr) return Napi::Boolean::New(env, false);
  const bool ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap)) == 1 && mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim)) == 1;
  return Napi::Boolean::New(env, ok);
#else
  return Napi::Boolean::New(env, false);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("keepFreedMemory", Napi::Function::New(env, KeepFreedMemory, "keepFreedMemory"));
  exports.Set("bitsplitOffset", Napi::Function::New(env, BitsplitOffset, "bitsplitOffset"));
  exports.Set("relativeToInt64", Napi::Function::New(env, RelativeToInt64, "relativeToInt64"));
  exports.Set("deltaRunsInt64", Napi::Function::New(env, DeltaRunsInt64, "deltaRunsInt64"));
  exports.Set("deltaBitsplit", Napi::Function::New(env, DeltaBitsplit, "deltaBitsplit"));
  quiver::InitRans(env, exports);  // deltaRans, ransDict, ransEncode (rans.cc)
  exports.Set("mapFile", Napi::Function::New(env, MapFile, "mapFile"));
  exports.Set("copyRange", Napi::Function::New(env, CopyRange, "copyRange"));
  exports.Set("copyRangeInto", Napi::Function::New(env, CopyRangeInto, "copyRangeInto"));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
  return exports;
}

}  // namespace

NODE_API_MODULE(quiver_native, Init)
