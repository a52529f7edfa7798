import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { PipelineError } from '../../errors';

export const KEY_FILE_ENV = 'DICOM_PIPELINE_KEY_FILE';

/** Config wins, then the environment, then a per-user default outside any data directory. */
export function resolveKeyFile(configured?: string): string {
  if (configured) return configured;
  const fromEnv = process.env[KEY_FILE_ENV];
  if (fromEnv) return fromEnv;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'dicom-pipeline', 'identity.key');
}

export interface LoadedKey {
  readonly key: Buffer;
  readonly created: boolean;
}

/**
 * Loads the HMAC key, creating it (32 random bytes, hex, mode 0600) on first use. The key only
 * derives new UIDs; stored mappings stay authoritative, so a lost key never changes an existing mapping.
 */
export function loadOrCreateKey(path: string): LoadedKey {
  try {
    return { key: parseKey(path, readFileSync(path, 'utf8')), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (err instanceof PipelineError) throw err;
      throw new PipelineError('E_IDENTITY', `cannot read key file ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  const key = randomBytes(32);
  // Written whole under a temp name, then linked into place: link() never replaces a file, and the
  // key file never exists half-written (two instances starting at once read an empty one before).
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, key.toString('hex') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(temp, 0o600);
    linkSync(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateKey(path); // another process won the race
    throw new PipelineError('E_IDENTITY', `cannot create key file ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    rmSync(temp, { force: true });
  }
  return { key, created: true };
}

function parseKey(path: string, text: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new PipelineError('E_IDENTITY', `key file ${path} is not 64 hex digits; restore it or move it away to create a new one`);
  }
  const mode = statSync(path).mode & 0o077;
  if (mode !== 0) chmodSync(path, 0o600); // tighten rather than refuse: the key must not stay readable by others
  return Buffer.from(hex, 'hex');
}
