import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PipelineError } from '../../src/errors';
import { cleanData, isKeptLogName, parseCutoffDate } from '../../src/tools/clean-data';
import { tempDir } from '../helpers/anon-env';
import { treeHashes } from '../helpers/files';

const DICM = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(100, 7)]); // 232 bytes

function epochOf(y: number, m: number, d: number, h = 0, s = 0): number {
  return Math.floor(new Date(y, m - 1, d, h, 0, s).getTime() / 1000);
}

function write(path: string, content: string | Buffer): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
}

/** A run directory as the runner leaves it: logs at the top, DICOM in the three data directories. */
function makeRun(dataDir: string, epoch: number, finished = true): string {
  const run = join(dataDir, `run_at_${epoch}`);
  write(join(run, 'overview.txt'), 'Starting at ...\n');
  write(join(run, 'journal.jsonl'), '{"event":"received"}\n');
  write(join(run, 'pipeline.log'), '{"level":30}\n');
  write(join(run, 'state.json'), '{}\n');
  if (finished) write(join(run, 'done.txt'), 'done\n');
  write(join(run, 'from_staging', '1.2.3', '1.2.3.4', '1.2.3.4.5.dcm'), DICM);
  write(join(run, 'from_staging', '1.2.3', '1.2.3.4', '1.2.3.4.6.dcm'), DICM);
  write(join(run, 'to_production', '2.25.1', '2.25.2', '2.25.3.dcm'), DICM);
  write(join(run, 'quarantine', 'quarantine.jsonl'), '{"reason":"likely screen capture"}\n');
  write(join(run, 'quarantine', '1.2.3', 'notes.txt'), 'identified input copied to quarantine');
  write(join(run, 'quarantine', 'not-a-log.txt'), DICM);
  return run;
}

test('parseCutoffDate: YYYY-MM-DD at local midnight, real calendar days only', () => {
  const d = parseCutoffDate('2024-02-29');
  assert.deepEqual([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()], [2024, 1, 29, 0, 0]);
  for (const bad of ['2023-02-29', '2024-13-01', '2024-1-05', '20240105', '05/01/2024', '2024-01-05T00:00', ' 2024-01-05', '', 'yesterday']) {
    assert.throws(() => parseCutoffDate(bad), (err: unknown) => err instanceof PipelineError && err.code === 'E_USAGE' && !err.message.includes('\n'), bad);
  }
});

test('isKeptLogName: text logs and journals', () => {
  for (const name of ['quarantine.jsonl', 'overview.txt', 'push.log', 'journal', 'journal.db', 'NOTES.TXT']) assert.ok(isKeptLogName(name), name);
  for (const name of ['1.2.3.dcm', '1.2.3', 'state.json', 'image.txt.dcm']) assert.ok(!isKeptLogName(name), name);
});

test('cleanData: only runs before the cutoff; data directories go, logs and run directories stay', () => {
  const { dir, cleanup } = tempDir('dp-clean-unit-');
  try {
    const cutoff = parseCutoffDate('2024-03-01');
    const old = makeRun(dir, epochOf(2024, 2, 29, 23, 59));
    const atCutoff = makeRun(dir, epochOf(2024, 3, 1));
    const newerBefore = treeHashes(atCutoff);
    const r = cleanData({ dataDir: dir, cutoff });
    assert.equal(r.runs.length, 1);
    assert.deepEqual(r.newerRuns, [`run_at_${epochOf(2024, 3, 1)}`]);
    assert.equal(r.runsCleaned, 1);
    // 2 + 1 DICOM files, quarantine/1.2.3/notes.txt (a nested copy of an input), and a DICOM named like a log
    assert.equal(r.filesDeleted, 5);
    assert.equal(r.bytesFreed, 4 * DICM.length + 'identified input copied to quarantine'.length);
    assert.deepEqual(r.failures, []);
    assert.deepEqual([...treeHashes(old).keys()].sort(), ['done.txt', 'journal.jsonl', 'overview.txt', 'pipeline.log', 'quarantine/quarantine.jsonl', 'state.json']);
    assert.ok(!existsSync(join(old, 'from_staging')) && !existsSync(join(old, 'to_production')));
    assert.equal(readFileSync(join(old, 'overview.txt'), 'utf8'), 'Starting at ...\n');
    assert.deepEqual(r.runs[0].directories.find((d) => d.path.endsWith('quarantine'))?.kept, [`run_at_${epochOf(2024, 2, 29, 23, 59)}/quarantine/quarantine.jsonl`]);
    assert.deepEqual(treeHashes(atCutoff), newerBefore, 'a run started at the cutoff is untouched');

    const again = cleanData({ dataDir: dir, cutoff });
    assert.equal(again.runsCleaned, 0, 'an already cleaned run is not counted again');
    assert.equal(again.filesDeleted, 0);
  } finally {
    cleanup();
  }
});

test('cleanData --dry-run: reports exactly what a real run deletes, deletes nothing', () => {
  const { dir, cleanup } = tempDir('dp-clean-unit-');
  try {
    makeRun(dir, epochOf(2023, 5, 1));
    makeRun(dir, epochOf(2023, 6, 1), false);
    const before = treeHashes(dir);
    const dry = cleanData({ dataDir: dir, cutoff: parseCutoffDate('2024-01-01'), dryRun: true });
    assert.deepEqual(treeHashes(dir), before);
    assert.equal(dry.dryRun, true);
    const real = cleanData({ dataDir: dir, cutoff: parseCutoffDate('2024-01-01') });
    assert.equal(dry.runsCleaned, real.runsCleaned);
    assert.equal(dry.filesDeleted, real.filesDeleted);
    assert.equal(dry.bytesFreed, real.bytesFreed);
    assert.deepEqual(dry.runs.map((r) => r.directories.map((d) => [d.path, d.files, d.bytes])), real.runs.map((r) => r.directories.map((d) => [d.path, d.files, d.bytes])));
    assert.deepEqual(real.runs.map((r) => r.finished), [true, false]);
  } finally {
    cleanup();
  }
});

test('cleanData never follows a symbolic link and never touches entries that are not run directories', () => {
  const { dir, cleanup } = tempDir('dp-clean-unit-');
  try {
    const dataDir = join(dir, 'data');
    const outside = join(dir, 'outside');
    write(join(outside, 'precious.dcm'), DICM);
    write(join(outside, 'from_staging', 'precious2.dcm'), DICM);
    const outsideBefore = treeHashes(outside);
    const run = makeRun(dataDir, epochOf(2020, 1, 1));
    symlinkSync(join(outside, 'precious.dcm'), join(run, 'from_staging', 'link.dcm'));
    symlinkSync(outside, join(run, 'to_production', 'linked-dir'));
    const linkedRun = makeRun(dataDir, epochOf(2020, 1, 2));
    rmSync(join(linkedRun, 'from_staging'), { recursive: true });
    symlinkSync(join(outside, 'from_staging'), join(linkedRun, 'from_staging'));
    symlinkSync(outside, join(dataDir, `run_at_${epochOf(2019, 1, 1)}`));
    write(join(dataDir, 'notes', 'from_staging', 'x.dcm'), DICM);
    write(join(dataDir, 'run_at_12'), 'a file, not a directory');
    write(join(dataDir, 'run_at_abc', 'from_staging', 'x.dcm'), DICM);

    const r = cleanData({ dataDir, cutoff: parseCutoffDate('2021-01-01') });
    assert.deepEqual(treeHashes(outside), outsideBefore, 'nothing outside the data directory changed');
    assert.ok(!existsSync(join(run, 'from_staging')), 'the link inside was removed as a link');
    assert.deepEqual(r.skipped, [
      { path: 'notes', reason: 'not a run_at_<epoch> directory' },
      { path: 'run_at_12', reason: 'not a directory' },
      { path: `run_at_${epochOf(2019, 1, 1)}`, reason: 'symbolic link, not followed' },
      { path: 'run_at_abc', reason: 'not a run_at_<epoch> directory' },
    ]);
    assert.deepEqual(r.runs[1].skipped, [{ path: `run_at_${epochOf(2020, 1, 2)}/from_staging`, reason: 'symbolic link, not followed' }]);
    assert.ok(existsSync(join(dataDir, 'notes', 'from_staging', 'x.dcm')));
    assert.ok(existsSync(join(dataDir, 'run_at_abc', 'from_staging', 'x.dcm')));
  } finally {
    cleanup();
  }
});

test('cleanData: a missing data directory is a usage error', () => {
  assert.throws(() => cleanData({ dataDir: '/nonexistent/dp-data', cutoff: new Date() }), (err: unknown) => err instanceof PipelineError && err.code === 'E_USAGE');
});
