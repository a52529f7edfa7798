/**
 * The pull's progress is honest: every study is listed (C-FIND at IMAGE level) before the first
 * C-MOVE, so the total is known from the first move on and never grows; received counts files on
 * disk, never goes back, and ends at the total. Against a real staging Orthanc.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pull, type PullProgress } from '../../src/scu/pull';
import { networkOptions } from '../../src/scu/options';
import { tempDir } from '../helpers/anon-env';
import { LOCAL_AET, startPipelinePeers, type PipelinePeers } from '../helpers/pipeline-peers';

const STUDIES = [
  { studyUid: '1.2.826.0.1.3680043.10.44.1', instances: 30 },
  { studyUid: '1.2.826.0.1.3680043.10.44.2', instances: 5 },
  { studyUid: '1.2.826.0.1.3680043.10.44.3', instances: 12 },
];
const TOTAL = STUDIES.reduce((n, s) => n + s.instances, 0);
const { dir, cleanup } = tempDir('dp-pull-progress-');
let peers: PipelinePeers;

before(async () => {
  peers = await startPipelinePeers(STUDIES.map((s) => ({ patientId: 'PAT-P', patientName: 'PROGRESS^PIA', ...s })));
});

after(async () => {
  await peers?.stop();
  cleanup();
});

function pullAll(events: PullProgress[]): ReturnType<typeof pull> {
  return pull({
    peer: { aeTitle: peers.staging.aeTitle, host: '127.0.0.1', port: peers.staging.dicomPort },
    studies: STUDIES.map((s) => s.studyUid),
    outDir: dir,
    localAet: LOCAL_AET,
    localPort: peers.localPort,
    network: networkOptions({ connectTimeoutMs: 3000, associationTimeoutMs: 5000, dimseTimeoutMs: 20000, retries: 1, retryBackoffMs: 100 }),
    onProgress: (p) => events.push(p),
  });
}

test('every study is listed before the first C-MOVE; the total never grows; received ends at it', async () => {
  const events: PullProgress[] = [];
  const report = await pullAll(events);
  assert.ok(report.complete);
  const firstMove = events.findIndex((e) => e.phase !== 'find');
  assert.ok(firstMove > 0, 'C-FIND progress first');
  assert.deepEqual(events.slice(0, firstMove).map((e) => e.study), [1, 2, 3], 'one find event per study, before any move');
  assert.ok(events.slice(firstMove).every((e) => e.phase !== 'find'), 'no C-FIND after the first C-MOVE');
  assert.ok(events.slice(firstMove).every((e) => e.expected === TOTAL), 'the total is known from the first move on');
  for (let i = 1; i < events.length; i++) assert.ok(events[i].received >= events[i - 1].received, 'received never goes back');
  assert.equal(events.at(-1)!.received, TOTAL);
  assert.equal(report.receivedThisRun, TOTAL);
});

test('a second pull finds everything on disk: counted as received at once, nothing moved', async () => {
  const events: PullProgress[] = [];
  const report = await pullAll(events);
  assert.deepEqual(report.studies.map((s) => s.moveStatus), ['already complete', 'already complete', 'already complete']);
  assert.equal(report.receivedThisRun, 0);
  assert.ok(events.every((e) => e.phase === 'find'));
  assert.deepEqual(events.at(-1), { study: 3, studies: 3, phase: 'find', expected: TOTAL, received: TOTAL, move: undefined });
});
