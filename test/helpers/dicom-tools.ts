import { spawnSync } from 'node:child_process';

/** dciodvfy's error lines, without the per-value detail that changes with the values. */
export function dciodvfyErrors(file: string): Set<string> {
  const res = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  const lines = `${res.stdout}\n${res.stderr}`.split('\n').filter((l) => l.startsWith('Error'));
  return new Set(lines.map((l) => l.replace(/ - (Value|Values|Value dubious|Invalid value).*$/i, '').replace(/<[^>]*[0-9][^>]*>/g, '<v>')));
}
