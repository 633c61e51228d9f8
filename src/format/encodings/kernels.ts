import { nativeAddon, type NativeAddon } from '../../native/addon.js';

/**
 * Native decode kernels (native/src/quiver_native.cc) when the addon is loaded, else none:
 * the JS loops run instead and produce identical values (the kernels repeat their arithmetic
 * operation for operation). QUIVER_NO_NATIVE=1 forces the JS loops.
 */
export const decodeKernels: Pick<NativeAddon, 'deltaBitsplit' | 'deltaRans' | 'ransDict' | 'deltaRunsInt64' | 'relativeToInt64' | 'bitsplitOffset'> = (() => {
  const addon = nativeAddon();
  return addon
    ? { deltaBitsplit: addon.deltaBitsplit, deltaRans: addon.deltaRans, ransDict: addon.ransDict, deltaRunsInt64: addon.deltaRunsInt64, relativeToInt64: addon.relativeToInt64, bitsplitOffset: addon.bitsplitOffset }
    : {};
})();

/**
 * Decode output buffers freed by one read are reused by the next instead of coming back from
 * the kernel as fresh pages (a page fault and zeroing per 4 KiB, which dominated uncached
 * decoding): glibc keeps freed blocks below 32 MiB and up to 64 MiB of free heap top. True
 * when that applied (the addon is loaded on glibc, and the user set no MALLOC_*_THRESHOLD_).
 */
export const keepsFreedMemory: boolean = (() => nativeAddon()?.keepFreedMemory?.(32 * 1024 * 1024, 64 * 1024 * 1024) ?? false)();

/** The native rANS encoder (ransEncode) when the addon is loaded: the same bytes as ransEncodeJs. QUIVER_NO_NATIVE=1 forces the JS loop. */
export const encodeKernels: Pick<NativeAddon, 'ransEncode'> = (() => {
  const addon = nativeAddon();
  return addon?.ransEncode ? { ransEncode: addon.ransEncode } : {};
})();
