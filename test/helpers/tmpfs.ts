/**
 * Small file systems for disk-full tests: a tmpfs of a given size mounted on a directory (root only;
 * mounted in the mount namespace the tests run in, and always unmounted by the test).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Mounts a tmpfs of `size` (e.g. "2m", "64k") on dir, creating dir; false where that is not possible. */
export function mountTmpfs(dir: string, size: string): boolean {
  if (!isRoot) return false;
  mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}

/** Gives a mounted tmpfs another size (e.g. more room, to resume after a full disk). */
export function resizeTmpfs(dir: string, size: string): boolean {
  return spawnSync('mount', ['-o', `remount,size=${size}`, dir]).status === 0;
}

export function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}
