import { ExactVectorIndex, HnswVectorIndex } from '../../../src/store/vector-index/index.js';
import { vectorIndexContract } from './contract.js';

vectorIndexContract('exact', async (dim) => new ExactVectorIndex(dim), 1);
vectorIndexContract('hnsw f32', async (dim) => new HnswVectorIndex(dim, { quantization: 'f32', threads: 1 }), 0.95);
vectorIndexContract('hnsw f16', async (dim) => new HnswVectorIndex(dim, { quantization: 'f16', threads: 1 }), 0.95);
vectorIndexContract('hnsw i8', async (dim) => new HnswVectorIndex(dim, { quantization: 'i8', threads: 1 }), 0.95);
vectorIndexContract('hnsw b1 + rescore', async (dim) => new HnswVectorIndex(dim, { quantization: 'b1', threads: 1 }), 0.9);
