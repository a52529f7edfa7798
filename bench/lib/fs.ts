import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under base (default: the system temp dir), and a way to remove it. */
export function makeTempDir(prefix: string, base = tmpdir()): { readonly dir: string; remove(): void } {
  const dir = mkdtempSync(join(base, prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TreeStats {
  readonly files: number;
  readonly bytes: number;
}

/** Counts regular files and their bytes under dir (symlinks not followed); hidden files included unless skipHidden. */
export function treeStats(dir: string, skipHidden = false): TreeStats {
  let files = 0;
  let bytes = 0;
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (skipHidden && entry.name.startsWith('.')) continue;
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) {
        files++;
        bytes += lstatSync(p).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}
