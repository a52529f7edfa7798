import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/anon-env';
import { FIXTURES, runCli } from '../helpers/cli';
import { treeHashes } from '../helpers/files';

const { dir, cleanup } = tempDir('dp-clean-cli-');
test.after(cleanup);

const CT = readFileSync(join(FIXTURES, 'ts', 'CT_small.dcm'));
const LOGS = ['overview.txt', 'comments.txt', 'studies_to_retrieve.txt', 'pull_output.txt', 'journal.jsonl', 'pipeline.log', 'state.json', 'done.txt'];

function write(path: string, content: string | Buffer): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
}

function makeRun(dataDir: string, epoch: number): string {
  const run = join(dataDir, `run_at_${epoch}`);
  for (const log of LOGS) write(join(run, log), `${log}\n`);
  write(join(run, 'from_staging', '1.2.3', '1.2.3.4', '1.2.3.4.5.dcm'), CT);
  write(join(run, 'to_production', '2.25.1', '2.25.2', '2.25.3.dcm'), CT);
  write(join(run, 'quarantine', 'quarantine.jsonl'), '{"file":"x","reason":"likely screen capture"}\n');
  write(join(run, 'quarantine', '1.2.3', '1.2.3.9.dcm'), CT);
  return run;
}

/** Seconds since the epoch of a local date and time. */
const at = (y: number, m: number, d: number, h = 0): number => Math.floor(new Date(y, m - 1, d, h).getTime() / 1000);

test('clean-data: bad dates are one-line usage errors (exit 2) and delete nothing', () => {
  const data = join(dir, 'bad-date');
  makeRun(data, at(2020, 1, 1));
  const before = treeHashes(data);
  for (const bad of ['2024-02-30', '2024/01/01', '24-01-01', '1704067200']) {
    const res = runCli(['clean-data', bad, '--data-dir', data]);
    assert.equal(res.code, 2, `${bad}: ${res.stderr}`);
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.match(res.stderr, /YYYY-MM-DD/);
  }
  const missing = runCli(['clean-data', '2024-01-01', '--data-dir', join(dir, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /data directory .*nope does not exist/);
  assert.deepEqual(treeHashes(data), before);
});

test('clean-data --dry-run lists directories with sizes and deletes nothing; the real run then frees exactly that', () => {
  const data = join(dir, 'dry');
  makeRun(data, at(2023, 12, 31, 23));
  makeRun(data, at(2024, 1, 1));
  const before = treeHashes(data);
  const dry = runCli(['clean-data', '2024-01-01', '--data-dir', data, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(treeHashes(data), before, 'dry run changed nothing');
  const old = `run_at_${at(2023, 12, 31, 23)}`;
  assert.match(dry.stdout, new RegExp(`would delete ${old}/from_staging: 1 file, 38\\.3 KiB`));
  assert.match(dry.stdout, new RegExp(`would delete ${old}/quarantine: 1 file, 38\\.3 KiB, kept quarantine.jsonl`));
  assert.match(dry.stdout, /runs to clean: 1 of 1 older than the cutoff; 1 newer run untouched/);
  assert.match(dry.stdout, new RegExp(`bytes to free: ${3 * CT.length} `));
  assert.match(dry.stdout, /dry run: nothing was deleted/);

  const real = runCli(['clean-data', '2024-01-01', '--data-dir', data]);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stdout, /runs cleaned: 1 of 1/);
  assert.match(real.stdout, new RegExp(`bytes freed: ${3 * CT.length} `));
  const after = treeHashes(join(data, old));
  assert.deepEqual([...after.keys()].sort(), [...LOGS, 'quarantine/quarantine.jsonl'].sort(), 'only the logs are left');
  for (const log of LOGS) assert.equal(readFileSync(join(data, old, log), 'utf8'), `${log}\n`);
  const newer = `run_at_${at(2024, 1, 1)}`;
  assert.deepEqual(treeHashes(join(data, newer)), new Map([...before].filter(([p]) => p.startsWith(`${newer}/`)).map(([p, h]) => [p.slice(newer.length + 1), h])));
});

test('clean-data: a symbolic link out of the data directory is never followed; other entries are skipped', () => {
  const data = join(dir, 'links', 'data');
  const outside = join(dir, 'links', 'elsewhere');
  write(join(outside, 'study', 'keep-me.dcm'), CT);
  const outsideBefore = treeHashes(outside);
  const run = makeRun(data, at(2021, 6, 1));
  symlinkSync(outside, join(run, 'from_staging', 'escape'));
  symlinkSync(join(outside, 'study', 'keep-me.dcm'), join(run, 'to_production', 'escape.dcm'));
  symlinkSync(outside, join(data, `run_at_${at(2021, 5, 1)}`));
  write(join(data, 'README.txt'), 'operators notes');
  const res = runCli(['clean-data', '2022-01-01', '--data-dir', data]);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(treeHashes(outside), outsideBefore, 'files outside the data directory are untouched');
  assert.ok(!existsSync(join(run, 'from_staging')) && !existsSync(join(run, 'to_production')));
  assert.match(res.stdout, /skipped README\.txt: not a run_at_<epoch> directory/);
  assert.match(res.stdout, new RegExp(`skipped run_at_${at(2021, 5, 1)}: symbolic link, not followed`));
  assert.ok(existsSync(join(data, 'README.txt')));
});

test('clean-data: <date> means local midnight (TZ), and dataDir comes from the config file by default', () => {
  const work = join(dir, 'tz');
  const data = join(work, 'runs');
  // 2024-01-01T03:00Z: after midnight in UTC, still 2023-12-31 in New York.
  const epoch = Date.UTC(2024, 0, 1, 3) / 1000;
  makeRun(data, epoch);
  writeFileSync(join(work, 'dicom-pipeline.json'), JSON.stringify({ dataDir: 'runs' }));
  const utc = runCli(['clean-data', '2024-01-01', '--dry-run'], { TZ: 'UTC' }, work);
  assert.equal(utc.code, 0, utc.stderr);
  assert.match(utc.stdout, /runs to clean: 0 of 0 older than the cutoff; 1 newer run untouched/);
  assert.match(utc.stdout, new RegExp(`data directory: .*${data}`));
  const ny = runCli(['clean-data', '2024-01-01', '--dry-run'], { TZ: 'America/New_York' }, work);
  assert.equal(ny.code, 0, ny.stderr);
  assert.match(ny.stdout, /runs to clean: 1 of 1/);
  assert.match(ny.stdout, /started 2023-12-31 22:00/);
});
