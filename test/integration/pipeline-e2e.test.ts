import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { findElement } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { decodeText } from '../../src/dicom/values';
import { RunDir } from '../../src/run/run-dir';
import { tempDir } from '../helpers/anon-env';
import { runCliAsync, type CliResult } from '../helpers/cli';
import { Orthanc } from '../helpers/orthanc';
import { startPipelinePeers, type PipelinePeers } from '../helpers/pipeline-peers';
import { FAKE_PHI, type FakeStudy } from '../helpers/studies';

const { dir, cleanup } = tempDir('dp-e2e-');
let peers: PipelinePeers;
let research: Orthanc;

const STUDIES: Record<string, FakeStudy> = {
  protocol: { patientId: 'PAT-1', patientName: 'TESTPERSON^ANNA', studyUid: '1.2.826.0.1.3680043.10.77.1', instances: 3, extraSeries: { description: 'Patient Protocol', instances: 1 } },
  secondOfPatient: { patientId: 'PAT-1', patientName: 'TESTPERSON^ANNA', studyUid: '1.2.826.0.1.3680043.10.77.2', modality: 'MR', instances: 2 },
  ultrasound: { patientId: 'PAT-2', patientName: 'SAMPLEMAN^BERT', studyUid: '1.2.826.0.1.3680043.10.77.3', modality: 'US', instances: 1 },
  burnedIn: { patientId: 'PAT-3', patientName: 'EXEMPLAR^CARLA', studyUid: '1.2.826.0.1.3680043.10.77.4', burnedIn: true, instances: 1 },
};
const MISSING = '1.2.826.0.1.3680043.10.77.9';
const PHI_TOKENS = ['TESTPERSON', 'SAMPLEMAN', 'EXEMPLAR', 'PAT-1', 'PAT-2', 'PAT-3', ...FAKE_PHI, '1.2.826.0.1.3680043.10.77.'];

function writeConfig(name: string, extra: Record<string, unknown> = {}): string {
  return peers.writeRunConfig(dir, name, extra);
}

function run(args: string[]): Promise<CliResult> {
  return runCliAsync(args, {}, dir);
}

function sha(file: string): string {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent';
}

before(async () => {
  peers = await startPipelinePeers(Object.values(STUDIES));
  research = peers.research;
  writeFileSync(join(dir, 'reviewed.csv'), [
    'study_instance_uid,has_protocol_series,comment',
    `${STUDIES.protocol.studyUid},true,"has a protocol sheet, remove it"`,
    `${STUDIES.secondOfPatient.studyUid},false,`,
    `${STUDIES.ultrasound.studyUid},false,ultrasound`,
    `${STUDIES.burnedIn.studyUid},false,`,
    `${MISSING},false,not in staging`,
  ].join('\n') + '\n');
});

after(async () => {
  await peers?.stop();
  cleanup();
});

test('practice run: pulls and anonymizes, changes nothing outside its run directory', async () => {
  const config = writeConfig('practice.json');
  const identityBefore = sha(join(dir, 'identity.db'));
  const res = await run(['run', '-c', config, '-p']);
  assert.equal(res.code, 3, `${res.stdout}\n${res.stderr}`); // the missing study could not be pulled
  assert.equal(sha(join(dir, 'identity.db')), identityBefore, 'identity.db untouched');
  assert.deepEqual(await research.instanceIds(), [], 'research PACS untouched');
  assert.match(res.stdout, /== push\n\s+push: skipped \(practice run\)/);
});

test('full run: research PACS gets exactly the clean studies, with one pseudonym per patient and no PHI', async () => {
  const config = writeConfig('dicom-pipeline.json');
  const res = await run(['run', '-c', config]);
  assert.equal(res.code, 3, `${res.stdout}\n${res.stderr}`);
  const instances = await research.instances();
  assert.equal(instances.length, 3 + 2, 'protocol study without its protocol series, plus the MR study');
  const patients = new Set<string>();
  for (const inst of instances) {
    const bytes = await research.instanceFile(inst.id);
    const text = bytes.toString('latin1');
    for (const token of PHI_TOKENS) assert.ok(!text.includes(token), `PHI token ${token} reached the research PACS`);
    const ds = parsePart10(bytes).dataset;
    patients.add(decodeText(findElement(ds, 0x00100020)!));
    assert.ok(inst.studyInstanceUid.startsWith('1.2.826.0.1.3680043.10.99.'));
  }
  assert.equal(patients.size, 1, 'both studies of one patient carry one pseudonym');

  const runDir = RunDir.latest(join(dir, 'data'))!.path;
  for (const f of ['overview.txt', 'comments.txt', 'studies_to_retrieve.txt', 'from_staging', 'quarantine', 'to_production', 'pull_output.txt',
    'anonymize_output.txt', 'post_anon_output.txt', 'push_output.txt', 'reviewed_protocol_studies.txt', 'found_protocol_studies.txt',
    'missing_protocol_studies.txt', 'done.txt', 'journal.jsonl', 'pipeline.log']) {
    assert.ok(existsSync(join(runDir, f)), `${f} in the run directory`);
  }
  const overview = readFileSync(join(runDir, 'overview.txt'), 'utf8');
  assert.match(overview, /^Starting at \d{4}-\d\d-\d\d \d\d:\d\d$/m);
  assert.match(overview, /^5 valid reviewed studies\. Please review comments\.txt$/m);
  assert.match(overview, /^Received 8 files containing 4 studies$/m);
  assert.match(overview, /^1 studies marked as having a protocol series, 1 studies found with protocol series during anonymization\.$/m);
  assert.match(overview, /^0 studies marked as having a protocol series but not found, see 'missing_protocol_studies\.txt'\.$/m);
  assert.match(overview, /^Post-anonymization hook "simple" completed/m);
  assert.match(overview, /^Push completed at \d{4}-\d\d-\d\d \d\d:\d\d$/m);
  assert.match(overview, /^Pushed: stored: 5, confirmed: 5 \(storage commitment\), failed: 0$/m, 'the research Orthanc knows our AE: it reports to our SCP');
  assert.match(overview, /^2 studies marked as pushed$/m);
  assert.match(overview, new RegExp(`^1 studies were not pushed: ${MISSING.replace(/\./g, '\\.')}$`, 'm'));
  const done = readFileSync(join(runDir, 'done.txt'), 'utf8');
  assert.match(done, /77\.3\tquarantined: modality not allowed/);
  assert.match(done, /77\.4\tquarantined: burned in annotation/);
  for (const f of ['journal.jsonl', 'pipeline.log', 'push_output.txt', 'anonymize_output.txt']) {
    const text = readFileSync(join(runDir, f), 'utf8');
    for (const token of PHI_TOKENS.slice(0, 9)) assert.ok(!text.includes(token), `${token} in ${f}`);
  }
  const db = new Database(join(dir, 'identity.db'), { readonly: true });
  assert.equal(db.prepare("select count(*) from patient where original = 'PAT-1'").pluck().get(), 1);
  db.close();
});
