/**
 * dcmtk as the oracle for "the same dataset in another transfer syntax": dcmdump's view of a file's
 * dataset (every value printed in full) with what legitimately changes with the encoding removed:
 * the meta group, the transfer syntax line, value/sequence/item lengths and delimiter lines. "??"
 * (dcmdump's VR for an element read inside a UN sequence, which is implicit by definition) reads as UN.
 */
import { spawnSync } from 'node:child_process';

export function datasetDump(path: string): string {
  const res = spawnSync('dcmdump', ['-q', '+L', '+Ep', path], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (res.status !== 0) throw new Error(`dcmdump ${path} failed (${res.status}): ${res.stderr}`);
  return res.stdout
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#') && !/^\(0002,/.test(line) && !/DelimitationItem/.test(line))
    .map((line) => line.replace(/\((Sequence|Item) with (explicit|undefined) length #=(\d+)\)/, '($1 #=$3)').replace(/#\s*(\d+|u\/l),\s*(\d+)/, '# $2').replace(/^(\s*\([0-9a-f]{4},[0-9a-f]{4}\)) \?\? /, '$1 UN ').replace(/ {2,}/g, ' ').trimEnd())
    .join('\n');
}

/** dcmconv's conversion of a file (+te Explicit VR LE, +ti Implicit VR LE) written to `out`. */
export function dcmconv(source: string, out: string, flag: '+te' | '+ti'): void {
  const res = spawnSync('dcmconv', [flag, source, out], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`dcmconv ${flag} ${source} failed (${res.status}): ${res.stderr}`);
}
