import { CorruptChunkError } from '../../src/errors.js';
import type { Target } from './targets.js';

/**
 * The runner's own check (not a reader): iteration 1 hangs, 2 kills its process, 3 throws an
 * untyped error, 4 changes data silently, 5 throws an accepted error, 6 leaves an unhandled
 * rejection; the others read correctly. fuzz.test.ts asserts each is classified as such.
 */
export const RUNNER_SELF_TEST: Target = {
  name: 'runner-self-test', acceptable: ['CorruptChunkError'], iterations: 8,
  async setup() {
    return {
      inputs: [Uint8Array.of(1, 2, 3, 4)],
      async check(_input, _mutation, _dir, iteration) {
        if (iteration === 1) for (;;);
        if (iteration === 2) process.kill(process.pid, 'SIGKILL');
        if (iteration === 3) throw new TypeError('untyped');
        if (iteration === 4) return 'changed';
        if (iteration === 5) throw new CorruptChunkError('x.qvr', 0, 'accepted');
        if (iteration === 6) {
          void Promise.reject(new RangeError('stray'));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return undefined;
      },
    };
  },
};
