/**
 * A staging PACS holding one SOP Instance UID under two patients (Orthanc keeps both; a C-MOVE of the
 * study sends both): our SCP keeps both copies (<SOP>.dcm and <SOP>.dup-1.dcm), the pull's
 * reconciliation counts the C-FIND rows (two rows, two files), the anonymizer quarantines every copy
 * with the reason "conflicting SOP Instance UID" and delivers the rest of the study, and the run says
 * so (overview, done.txt, summary) and exits 3. Nothing is silently lost.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readQuarantineLog } from '../../src/anon/quarantine-log';
import { findElement } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { decodeText } from '../../src/dicom/values';
import { RunDir } from '../../src/run/run-dir';
import { tempDir } from '../helpers/anon-env';
import { runCliAsync } from '../helpers/cli';
import { LOCAL_AET, startPipelinePeers, type PipelinePeers } from '../helpers/pipeline-peers';
import { fakeStudy, type FakeStudy } from '../helpers/studies';

const { dir, cleanup } = tempDir('dp-dupuid-');
let peers: PipelinePeers;

const STUDY: FakeStudy = { patientId: 'PAT-A', patientName: 'FIRSTPATIENT^ANNE', studyUid: '1.2.826.0.1.3680043.10.78.1', instances: 3 };
/** The same study, series and SOP Instance UIDs filed under another patient: instance 2 only. */
const MISFILED: FakeStudy = { ...STUDY, patientId: 'PAT-B', patientName: 'SECONDPATIENT^BEN' };
const CLEAN: FakeStudy = { patientId: 'PAT-C', patientName: 'THIRDPATIENT^CARL', studyUid: '1.2.826.0.1.3680043.10.78.2', instances: 2 };
const SHARED_SOP = `${STUDY.studyUid}.1.2`;

before(async () => {
  peers = await startPipelinePeers([STUDY, CLEAN]);
  await peers.staging.upload(fakeStudy(MISFILED)[1]);
  const held = (await peers.staging.instances()).filter((i) => i.sopInstanceUid === SHARED_SOP);
  assert.equal(held.length, 2, 'staging holds two different instances under one SOP Instance UID');
});

after(async () => {
  await peers?.stop();
  cleanup();
});

const patientIdOf = (file: string): string => decodeText(findElement(parsePart10(readFileSync(file)).dataset, 0x00100020)!);

test('pull: both instances under the shared SOP Instance UID arrive, the report counts rows and names the study', async () => {
  const out = join(dir, 'pulled');
  const res = await runCliAsync(['pull', `${peers.staging.aeTitle}@127.0.0.1:${peers.staging.dicomPort}`, STUDY.studyUid, '--out', out, '--aet', LOCAL_AET, '--port', String(peers.localPort), '--host', '127.0.0.1']);
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, new RegExp(`${STUDY.studyUid.replace(/\./g, '\\.')}: expected 4, received 4, failed 0; 1 SOP Instance UID is held by more than one different instance`));
  const seriesDir = join(out, STUDY.studyUid, `${STUDY.studyUid}.1`);
  const names = readdirSync(seriesDir).sort();
  assert.deepEqual(names, [`${STUDY.studyUid}.1.1.dcm`, `${SHARED_SOP}.dcm`, `${SHARED_SOP}.dup-1.dcm`, `${STUDY.studyUid}.1.3.dcm`].sort());
  assert.deepEqual([`${SHARED_SOP}.dcm`, `${SHARED_SOP}.dup-1.dcm`].map((n) => patientIdOf(join(seriesDir, n))).sort(), ['PAT-A', 'PAT-B']);

  // Pulled again: nothing is missing, nothing is added (identical copies are not stored twice).
  const again = await runCliAsync(['pull', `${peers.staging.aeTitle}@127.0.0.1:${peers.staging.dicomPort}`, STUDY.studyUid, '--out', out, '--aet', LOCAL_AET, '--port', String(peers.localPort), '--host', '127.0.0.1']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /expected 4, received 4, failed 0/);
  assert.equal(readdirSync(seriesDir).length, 4);
});

test('run: every copy quarantined with the reason, the rest delivered, the study reported, exit 3', async () => {
  writeFileSync(join(dir, 'reviewed.csv'), ['study_instance_uid,has_protocol_series,comment', `${STUDY.studyUid},false,`, `${CLEAN.studyUid},false,`].join('\n') + '\n');
  const config = peers.writeRunConfig(dir, 'config.json');
  const res = await runCliAsync(['run', '-c', config], {}, dir);
  assert.equal(res.code, 3, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, /mark: 2 pushed, 0 not pushed; 1 with instances quarantined for a conflicting SOP Instance UID/);

  const runDir = RunDir.latest(join(dir, 'data'))!.path;
  const records = readQuarantineLog(join(runDir, 'quarantine'));
  assert.deepEqual(records.map((r) => r.reason), ['conflicting SOP Instance UID', 'conflicting SOP Instance UID']);
  assert.deepEqual(records.map((r) => r.file.split('/').pop()).sort(), [`${SHARED_SOP}.dcm`, `${SHARED_SOP}.dup-1.dcm`]);
  assert.deepEqual(records.map((r) => patientIdOf(join(runDir, 'quarantine', r.copy))).sort(), ['PAT-A', 'PAT-B'], 'both copies, as received');

  const delivered = await peers.research.instances();
  assert.equal(delivered.length, 2 + 2, 'instances 1 and 3 of the study, and the clean study');
  assert.match(readFileSync(join(runDir, 'anonymize_output.txt'), 'utf8'), /conflicting SOP Instance UID: 2/);
  assert.match(readFileSync(join(runDir, 'pull_output.txt'), 'utf8'), /expected 4, received 4, failed 0.*1 SOP Instance UID is held by more than one/);
  const done = readFileSync(join(runDir, 'done.txt'), 'utf8');
  assert.match(done, new RegExp(`${STUDY.studyUid.replace(/\./g, '\\.')}\tpushed as [0-9.]+; 2 instances not delivered: conflicting SOP Instance UID \\(quarantined\\)`));
  const overview = readFileSync(join(runDir, 'overview.txt'), 'utf8');
  assert.match(overview, /1 studies hold different instances under one SOP Instance UID \(all received; every copy will be quarantined\)/);
  assert.match(overview, /1 studies hold different instances under one SOP Instance UID; every such copy was quarantined/);
  for (const f of ['journal.jsonl', 'pipeline.log', 'overview.txt', 'anonymize_output.txt']) {
    const text = readFileSync(join(runDir, f), 'utf8');
    for (const token of ['PAT-A', 'PAT-B', 'FIRSTPATIENT', 'SECONDPATIENT']) assert.ok(!text.includes(token), `${token} in ${f}`);
  }
});
