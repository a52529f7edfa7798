/**
 * A run whose data directory fills up mid-pull (a small tmpfs, root only): one clear line naming
 * the place, the free space and what to do, exit 1, no stack trace, the failed step recorded in
 * state.json and overview.txt; after the file system is enlarged, `-r` delivers everything. And a
 * run whose log cannot be written (pipeline.log on /dev/full): the same, instead of a crash.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RunDir } from '../../src/run/run-dir';
import { tempDir } from '../helpers/anon-env';
import { runCliAsync } from '../helpers/cli';
import { startPipelinePeers, type PipelinePeers } from '../helpers/pipeline-peers';
import { isRoot, mountTmpfs, resizeTmpfs, unmount } from '../helpers/tmpfs';

const PER_STUDY = 40; // ~40 kB each (CT_small): 3.2 MB received, as much again anonymized
const STUDY_UIDS = ['1.2.826.0.1.3680043.10.66.1', '1.2.826.0.1.3680043.10.66.2'];
const { dir, cleanup } = tempDir('dp-disk-full-');
const dataDir = join(dir, 'data');
let peers: PipelinePeers | undefined;
let mounted = false;

/** A config for a run over the peers' studies into dataDir (research emptied first). */
async function scenario(name: string, data: string): Promise<string> {
  await peers!.research.clear();
  const config = join(dir, `${name}.json`);
  writeFileSync(config, JSON.stringify(peers!.config({
    review: { csv: join(dir, 'reviewed.csv') },
    identityDb: join(dir, 'identity.db'),
    keyFile: join(dir, 'identity.key'),
    dataDir: data,
  })));
  return config;
}

before(async () => {
  peers = await startPipelinePeers(STUDY_UIDS.map((studyUid) => ({ patientId: 'PAT-F', patientName: 'FULLER^FRIDA', studyUid, instances: PER_STUDY })));
  writeFileSync(join(dir, 'reviewed.csv'), `study_instance_uid,has_protocol_series,comment\n${STUDY_UIDS.map((u) => `${u},false,`).join('\n')}\n`);
  mounted = mountTmpfs(dataDir, '2m');
});

after(async () => {
  await peers?.stop();
  if (mounted) unmount(dataDir);
  cleanup();
});

test('a data directory that fills up mid-pull: one line, exit 1, recorded; -r completes once there is room', { skip: isRoot ? false : 'needs root to mount a tmpfs' }, async (t) => {
  if (!mounted) return t.skip('mount -t tmpfs failed here');
  const config = await scenario('tmpfs', dataDir);
  const full = await runCliAsync(['run', '-c', config], {}, dir);
  assert.equal(full.code, 1, `${full.stdout}\n${full.stderr}`);
  const lines = full.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${full.stderr}`);
  t.diagnostic(lines[0]);
  assert.match(lines[0], /^dicom-pipeline: step (pull|anonymize) failed: disk full writing \S+ \(ENOSPC, [\d.]+ [kMG]B free\): free space .* then resume with `dicom-pipeline -r`$/);
  assert.ok(lines[0].includes(dataDir), 'names a place inside the data directory');
  assert.ok(!lines[0].includes('1.2.826.0.1.3680043.10.66'), 'names no identified UID');
  assert.doesNotMatch(full.stdout + full.stderr, /\n\s+at /, 'no stack trace');

  const run = RunDir.latest(dataDir)!;
  const state = run.loadState()!;
  const failed = Object.entries(state.steps).filter(([, s]) => s?.status === 'failed');
  assert.equal(failed.length, 1, JSON.stringify(state.steps));
  assert.match(failed[0][1]!.message!, /disk full/);
  assert.notEqual(state.steps.pull?.status, 'done', 'the pull did not get everything');
  assert.match(run.readOverview(), /^Step (pull|anonymize) failed: disk full writing /m);
  assert.ok(!readdirSync(run.path).includes('.space-reserve'), 'the reserve is given back');

  assert.ok(resizeTmpfs(dataDir, '64m'));
  const resumed = await runCliAsync(['run', '-c', config, '-r'], {}, dir);
  assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
  const delivered = await peers!.research.instances();
  assert.equal(delivered.length, STUDY_UIDS.length * PER_STUDY, 'every instance delivered');
  assert.match(RunDir.latest(dataDir)!.readOverview(), /^2 studies marked as pushed$/m);
});

test('a log that cannot be written (pipeline.log on /dev/full): one line, exit 1, then -r completes', { skip: existsSync('/dev/full') ? false : 'no /dev/full' }, async (t) => {
  const data = join(dir, 'log-full');
  const config = await scenario('log-full', data);
  // Stop a run early (as a crash would), then resume it with its log pointing at a full device.
  const killed = await runCliAsync(['run', '-c', config], { DICOM_PIPELINE_CRASH_AT: 'pull:3' }, dir);
  assert.equal(killed.code, null, killed.stderr);
  const run = RunDir.latest(data)!;
  rmSync(run.file('pipeline.log'));
  symlinkSync('/dev/full', run.file('pipeline.log'));
  const full = await runCliAsync(['run', '-c', config, '-r'], {}, dir);
  assert.equal(full.code, 1, `${full.stdout}\n${full.stderr}`);
  const lines = full.stderr.trim().split('\n');
  assert.equal(lines.length, 1, full.stderr);
  t.diagnostic(lines[0]);
  assert.match(lines[0], new RegExp(`^dicom-pipeline: step (pull|anonymize) failed: disk full writing ${run.file('pipeline.log')} \\(ENOSPC, .* free\\): .*-r\`$`));
  assert.doesNotMatch(full.stdout + full.stderr, /\n\s+at /, 'no stack trace');
  assert.match(run.readOverview(), /^Step (pull|anonymize) failed: disk full writing /m);

  rmSync(run.file('pipeline.log'));
  const resumed = await runCliAsync(['run', '-c', config, '-r'], {}, dir);
  assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
  assert.equal((await peers!.research.instances()).length, STUDY_UIDS.length * PER_STUDY, 'every instance delivered');
});
