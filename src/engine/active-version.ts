import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Which catalog folder serves, made by which model: `<dataDir>/ACTIVE.json`. */
export interface ActiveVersion {
  /** Catalog folder relative to the data directory: '.' (the first model) or `versions/<version>`. */
  folder: string;
  modelVersion: string;
  /** Absolute path of that model's manifest, to serve it again while re-embedding for a new one. */
  manifest: string;
}

const FILE = 'ACTIVE.json';

/** The active version, or undefined for a data directory from before version folders (or a new one). */
export function readActiveVersion(dataDir: string): ActiveVersion | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(dataDir, FILE), 'utf8')) as ActiveVersion;
    if (typeof v.folder === 'string' && typeof v.modelVersion === 'string' && typeof v.manifest === 'string') return v;
  } catch {
    // absent or unreadable: treated as a data directory without version folders
  }
  return undefined;
}

/** Replaces the active version atomically and durably (temporary file, fsync, rename, folder fsync). */
export function writeActiveVersion(dataDir: string, v: ActiveVersion): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const tmp = path.join(dataDir, `${FILE}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(v));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dataDir, FILE));
  const dfd = fs.openSync(dataDir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

/** The folder that holds a model version's catalog (version strings are made path-safe). */
export function versionFolder(modelVersion: string): string {
  return path.join('versions', modelVersion.replace(/[^A-Za-z0-9._+-]/g, '_'));
}
