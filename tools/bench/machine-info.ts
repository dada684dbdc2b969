import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

/** What the figures were measured on. */
export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs the process may use (`os.availableParallelism()`). */
  cores: number;
  totalMemoryGiB: number;
  platform: string;
  arch: string;
  nodeVersion: string;
  onnxruntimeVersion: string;
  sharpVersion: string;
  /** libvips threads per sharp pipeline (`sharp.concurrency()`). */
  sharpConcurrency: number;
  /** `UV_THREADPOOL_SIZE` as set in the environment (libuv's default is 4). */
  uvThreadpoolSize: string;
  /** 1-minute load average when the run started (other load skews every figure). */
  loadAverage1m: number;
}

function packageVersion(name: string): string {
  try {
    // The packages' `exports` may hide package.json; resolve the entry point and walk up instead.
    let dir = path.dirname(require.resolve(name));
    for (let i = 0; i < 6; i++) {
      const file = path.join(dir, 'package.json');
      if (fs.existsSync(file)) {
        const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      }
      dir = path.dirname(dir);
    }
  } catch {
    // fall through
  }
  return 'unknown';
}

/** Collects CPU, memory, runtime and library versions of this machine. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: (cpus[0]?.model ?? 'unknown').trim(),
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: os.platform(),
    arch: os.arch(),
    nodeVersion: process.version,
    onnxruntimeVersion: packageVersion('onnxruntime-node'),
    sharpVersion: sharp.versions?.sharp ?? packageVersion('sharp'),
    sharpConcurrency: sharp.concurrency(),
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? 'default (4)',
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
  };
}
