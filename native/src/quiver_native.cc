// Quiver's N-API addon: read-only memory maps of chunk files.
//
// mmap(path) -> Buffer over the whole file, mapped PROT_READ/MAP_SHARED. The fd is closed
// at once (the mapping keeps the file alive); the Buffer's finalizer munmaps, so any view
// of it stays valid for as long as JavaScript holds it. Errors are thrown as JS Errors
// carrying `code` (the errno name, e.g. "ENOENT") and `syscall`, like node:fs errors, so the
// JS layer maps them the same way as its pure-JS twin (positional reads).
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& path) {
  Napi::Error error = Napi::Error::New(env, std::string(ErrnoName(err)) + ": " + std::strerror(err) + ", " + syscall + " '" + path + "'");
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.Set("path", Napi::String::New(env, path));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

void Unmap(Napi::Env /*env*/, uint8_t* data, size_t* length) {
  munmap(data, *length);
  delete length;
}

// mmap(path: string, advice?: 'normal' | 'random' | 'sequential' | 'willneed'): Buffer
Napi::Value Mmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "mmap(path: string, advice?: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, errno, "open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) { int err = errno; close(fd); return ThrowErrno(env, err, "fstat", path); }
  if (S_ISDIR(st.st_mode)) { close(fd); return ThrowErrno(env, EISDIR, "mmap", path); }
  size_t length = static_cast<size_t>(st.st_size);
  if (length == 0) { close(fd); return Napi::Buffer<uint8_t>::New(env, 0); }
  void* data = mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (data == MAP_FAILED) return ThrowErrno(env, err, "mmap", path);
  if (info.Length() > 1 && info[1].IsString()) {
    std::string advice = info[1].As<Napi::String>().Utf8Value();
    int flag = advice == "random" ? MADV_RANDOM : advice == "sequential" ? MADV_SEQUENTIAL
             : advice == "willneed" ? MADV_WILLNEED : MADV_NORMAL;
    madvise(data, length, flag);  // a hint: failure is harmless
  }
  return Napi::Buffer<uint8_t>::New(env, static_cast<uint8_t*>(data), length, Unmap, new size_t(length));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("mmap", Napi::Function::New(env, Mmap, "mmap"));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
  return exports;
}

}  // namespace

NODE_API_MODULE(quiver_native, Init)
