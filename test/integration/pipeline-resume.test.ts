import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Journal } from '../../src/run/journal';
import { RunDir } from '../../src/run/run-dir';
import { tempDir } from '../helpers/anon-env';
import { runCliAsync, type CliResult } from '../helpers/cli';
import { Orthanc } from '../helpers/orthanc';
import { LOCAL_AET, startPipelinePeers, type PipelinePeers } from '../helpers/pipeline-peers';
import { assertConfirmedOnce } from '../helpers/run-journal';

const PER_STUDY = 12;
const STUDY_UIDS = ['1.2.826.0.1.3680043.10.88.1', '1.2.826.0.1.3680043.10.88.2'];
const { dir, cleanup } = tempDir('dp-resume-');
let peers: PipelinePeers;
let research: Orthanc;

before(async () => {
  peers = await startPipelinePeers(STUDY_UIDS.map((studyUid) => ({ patientId: 'PAT-R', patientName: 'RESUMER^ROSA', studyUid, instances: PER_STUDY })));
  research = peers.research;
  writeFileSync(join(dir, 'reviewed.csv'), `study_instance_uid,has_protocol_series,comment\n${STUDY_UIDS.map((u) => `${u},false,`).join('\n')}\n`);
});

after(async () => {
  await peers?.stop();
  cleanup();
});

/** A fresh data directory and config per scenario; the identity map is shared, as at a site. */
function scenario(name: string, target: Orthanc = research, confirm?: string): { config: string; dataDir: string } {
  const dataDir = join(dir, name, 'data');
  mkdirSync(dataDir, { recursive: true });
  const config = join(dir, name, 'config.json');
  writeFileSync(config, JSON.stringify(peers.config({
    research: { aet: target.aeTitle, host: '127.0.0.1', port: target.dicomPort, ...(confirm ? { confirm } : {}) },
    review: { csv: join(dir, 'reviewed.csv') },
    identityDb: join(dir, 'identity.db'),
    keyFile: join(dir, 'identity.key'),
    dataDir,
  })));
  return { config, dataDir };
}

function run(config: string, extra: string[] = [], env: Record<string, string> = {}): Promise<CliResult & { signal?: string }> {
  return runCliAsync(['run', '-c', config, ...extra], env, dir);
}

/** What must hold after any crash and resume: every instance at the research PACS once, nothing confirmed sent twice. */
async function assertCompleteOnce(dataDir: string, target: Orthanc = research): Promise<void> {
  const uids = (await target.instances()).map((i) => i.sopInstanceUid);
  assert.equal(uids.length, 2 * PER_STUDY);
  assert.equal(new Set(uids).size, uids.length);
  // Through the report the research Orthanc sent to our SCP.
  assertConfirmedOnce(dataDir, 2 * PER_STUDY, 'storage commitment');
}

for (const step of ['pull', 'anonymize', 'push'] as const) {
  test(`kill -9 during ${step}, then -r: the run completes, nothing lost, nothing confirmed sent twice`, async () => {
    await research.clear();
    const { config, dataDir } = scenario(`kill-${step}`);
    const crashAt = step === 'push' ? PER_STUDY + 3 : 3; // in push: after the first study was confirmed
    const killed = await run(config, [], { DICOM_PIPELINE_CRASH_AT: `${step}:${crashAt}` });
    assert.equal(killed.code, null, `the run was killed (${killed.stdout} ${killed.stderr})`);
    const state = RunDir.latest(dataDir)!.loadState()!;
    assert.notEqual(state.steps[step]?.status, 'done', `${step} was interrupted`);
    const resumed = await run(config, ['-r']);
    assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
    // pull and anonymize overlap: a crash in anonymize may come while the pull is still running
    const resumedFrom = step === 'anonymize' ? '(pull|anonymize)' : step;
    assert.match(RunDir.latest(dataDir)!.readOverview(), new RegExp(`^Resuming at .* from step ${resumedFrom}$`, 'm'));
    assert.equal(RunDir.latest(dataDir)!.readOverview().match(/^Starting at /gm)?.length, 1, 'a resume does not write another "Starting at"');
    await assertCompleteOnce(dataDir);
  });
}

test('research PACS refusing stores, then fixed, then -r', async () => {
  // A research PACS that does not know our AE title and accepts stores only from peers it knows.
  const strict = await Orthanc.start({ aeTitle: 'STRICT', config: { DicomAlwaysAllowStore: false } });
  try {
    const { config, dataDir } = scenario('refused', strict);
    const refused = await run(config);
    assert.equal(refused.code, 1, 'nothing stored: the push step failed');
    assert.match(refused.stderr, /step push failed: STRICT@127\.0\.0\.1:\d+ stored none of 24 files: .*DCMQR/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(await strict.instanceIds(), []);
    await strict.setModality('pipeline', { aeTitle: LOCAL_AET, host: '127.0.0.1', port: peers.localPort });
    const fixed = await run(config, ['-r']);
    assert.equal(fixed.code, 0, `${fixed.stdout}\n${fixed.stderr}`);
    await assertCompleteOnce(dataDir, strict);
    assert.match(readFileSync(RunDir.latest(dataDir)!.file('overview.txt'), 'utf8'), /^2 studies marked as pushed$/m);
  } finally {
    await strict.stop();
  }
});

test('research Orthanc that stores from anyone but refuses our C-FIND: the run delivers everything, exit 0, "unconfirmed" reported', async () => {
  // DicomAlwaysAllowStore, and we are not in its DicomModalities: it aborts our N-ACTION and C-FIND.
  const storeOnly = await Orthanc.start({ aeTitle: 'OPENSTORE', config: { DicomAlwaysAllowStore: true } });
  try {
    const { config, dataDir } = scenario('store-only', storeOnly);
    const res = await run(config);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /push: 2 of 2 studies delivered; stored: 24, confirmed: 0, unconfirmed: 24 \(the archive offers no way to confirm: storage commitment refused: .*; C-FIND: association aborted by OPENSTORE@.*\), failed: 0/);
    assert.match(res.stdout, /warning: stored but unconfirmed: the archive offers no way to confirm/);
    assert.equal((await storeOnly.instanceIds()).length, 2 * PER_STUDY);
    const runDir = RunDir.latest(dataDir)!;
    const journal = new Journal(runDir.file('journal.jsonl')).read();
    const delivered = journal.filter((e) => e.event === 'delivered');
    assert.equal(new Set(delivered.map((e) => e.instance)).size, 2 * PER_STUDY, 'every instance journaled as delivered');
    assert.ok(delivered.every((e) => /offers no way to confirm/.test(e.detail ?? '')), 'with why it is unconfirmed');
    assert.equal(journal.filter((e) => e.event === 'confirmed').length, 0);
    assert.match(runDir.readOverview(), /^2 studies marked as pushed$/m);
    const again = await run(config, ['-r']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /every step is already done/);
  } finally {
    await storeOnly.stop();
  }
});

test('research.confirm "none": stored is delivered, journaled as such, nothing asked of the archive', async () => {
  await research.clear();
  const { config, dataDir } = scenario('confirm-none', research, 'none');
  const res = await run(config);
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, /push: 2 of 2 studies delivered; stored: 24, confirmed: 0, unconfirmed: 24 \(not asked for \(confirm: none\)\), failed: 0/);
  const journal = new Journal(RunDir.latest(dataDir)!.file('journal.jsonl')).read();
  assert.equal(journal.filter((e) => e.event === 'delivered' && e.detail === 'not asked for (confirm: none)').length, 2 * PER_STUDY);
  assert.equal(journal.filter((e) => e.event === 'confirmed').length, 0);
  assert.equal((await research.instanceIds()).length, 2 * PER_STUDY);
});
