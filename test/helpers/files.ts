import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fg from 'fast-glob';

/** Every file under dir (hidden ones included) with its SHA-256, by relative path. */
export function treeHashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of fg.sync('**/*', { cwd: dir, dot: true, onlyFiles: true }).sort()) {
    out.set(rel, createHash('sha256').update(readFileSync(`${dir}/${rel}`)).digest('hex'));
  }
  return out;
}

export function dicomFiles(dir: string): string[] {
  return fg.sync('**/*.dcm', { cwd: dir, absolute: true, onlyFiles: true }).sort();
}
