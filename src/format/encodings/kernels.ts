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

/** The native rANS encoder (ransEncode) when the addon is loaded: the same bytes as ransEncodeJs. QUIVER_NO_NATIVE=1 forces the JS loop. */
export const encodeKernels: Pick<NativeAddon, 'ransEncode'> = (() => {
  const addon = nativeAddon();
  return addon?.ransEncode ? { ransEncode: addon.ransEncode } : {};
})();
