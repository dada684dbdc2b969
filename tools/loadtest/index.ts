/**
 * Robustness and load tools against the real server run as a child process on loopback:
 * `twinlens-dev fuzz` (mutated images), `twinlens-dev fuzz-replay` (fuzz cases straight through the decoder), `twinlens-dev loadtest` (closed-loop load with memory samples,
 * SIGTERM under load, bursts above capacity).
 */
export { loadtestCommands } from './commands.js';
export {
  type ServerProcess,
  type ServerProcessOptions,
  type ProcessExit,
  type HeapMemory,
  heapMemoryFrom,
  SERVER_ENTRY,
  healthStatus,
  startServerProcess,
} from './server-process.js';
export { type FuzzSeed, type SeedContainer, type SeedVerdict, anchorImage, makeFuzzSeeds } from './fuzz-seeds.js';
export { type Expectation, type FuzzCase, type FuzzCaseOptions, type MutationKind, MUTATION_KINDS, fuzzCase } from './fuzz-mutate.js';
export { type FuzzOptions, type FuzzReport, type FuzzFailure, type FuzzRpc, FUZZ_RPCS, formatFuzzReport, runFuzz } from './run-fuzz.js';
export { type ReplayDecodesOptions, type ReplayDecodesReport, replayDecodes } from './replay-decodes.js';
export { type LoadCatalogItem, type LoadImages, type LoadImagesOptions, makeLoadImages } from './load-images.js';
export {
  type AcknowledgedItem,
  type LoadMix,
  type LoadOptions,
  type LoadReport,
  type LoadRpc,
  type RpcStats,
  type RssSample,
  LOAD_RPCS,
  formatLoadReport,
  runLoad,
} from './run-load.js';
export { seedCatalog } from './seed-catalog.js';
export { type SigtermReport, type SigtermTestOptions, formatSigtermReport, runSigtermTest } from './sigterm-test.js';
export { type BurstReport, type BurstRound, type BurstTestOptions, QUICK_REFUSAL_MS, burstMemoryBoundMB, formatBurstReport, noisyJpeg, runBurstTest } from './burst-test.js';
export { type CallOutcome, type LoadClients, codeName, compare, connectLoadClients, embed, getItem, search, upsert } from './grpc-calls.js';
export { type UploadFloodOptions, type UploadFloodReport, formatUploadFloodReport, largeNoisyJpeg, runUploadFlood } from './upload-flood.js';
