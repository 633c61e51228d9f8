import { MemoryChunkManager } from '../../src/chunk-manager/memory.js';
import { chunkManagerContract } from './contract.js';

chunkManagerContract('memory', async () => ({ cm: new MemoryChunkManager('contract'), cleanup: async () => {} }));
