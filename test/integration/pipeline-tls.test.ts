/**
 * The whole `dicom-pipeline run` over DICOM TLS: staging and research Orthancs with TLS-only ports,
 * our SCP TLS-only (staging's C-MOVE sub-associations and research's storage commitment reports
 * come over TLS, "UseDicomTls"), pull, anonymize, push and confirm by storage commitment; plus
 * what a site gets wrong in the config, said before anything moves.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RunDir } from '../../src/run/run-dir';
import { tempDir } from '../helpers/anon-env';
import { makeCa, type CertFiles, type TestCa } from '../helpers/certs';
import { runCliAsync } from '../helpers/cli';
import { startPipelinePeers, type PipelinePeers } from '../helpers/pipeline-peers';
import { FAKE_PHI, type FakeStudy } from '../helpers/studies';

const { dir, cleanup } = tempDir('dp-tls-');
let peers: PipelinePeers;
let ca: TestCa;
let ours: CertFiles;

const STUDIES: FakeStudy[] = [
  { patientId: 'TLS-1', patientName: 'SECURE^SALLY', studyUid: '1.2.826.0.1.3680043.10.78.1', instances: 3 },
  { patientId: 'TLS-2', patientName: 'CIPHER^CARL', studyUid: '1.2.826.0.1.3680043.10.78.2', modality: 'MR', instances: 2 },
];

function writeConfig(name: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, name);
  const base = peers.config({
    review: { csv: join(dir, 'reviewed.csv') },
    identityDb: join(dir, 'identity.db'),
    keyFile: join(dir, 'identity.key'),
    dataDir: join(dir, 'data'),
    dicomRoot: '1.2.826.0.1.3680043.10.99',
    tls: { cert: ours.cert, key: ours.key, ca: ca.cert },
  }) as Record<string, Record<string, unknown>>;
  const config = { ...base, local: { ...base.local, tls: true }, staging: { ...base.staging, tls: true }, research: { ...base.research, tls: true }, ...extra };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

before(async () => {
  ca = makeCa('Pipeline Test CA');
  ours = ca.issue('pipeline');
  peers = await startPipelinePeers(STUDIES, { ...ca.issue('orthanc'), ca: ca.cert });
  writeFileSync(join(dir, 'reviewed.csv'), ['study_instance_uid,has_protocol_series,comment', ...STUDIES.map((s) => `${s.studyUid},false,`)].join('\n') + '\n');
});

after(async () => {
  await peers?.stop();
  ca?.remove();
  cleanup();
});

test('a config that turns TLS on without the tls block, or our SCP without a certificate: every problem listed, nothing moved', async () => {
  const missing = writeConfig('no-tls.json', { tls: undefined });
  const res = await runCliAsync(['run', '-c', missing], {}, dir);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /tls: required by local\.tls/);
  assert.match(res.stderr, /tls: required by staging\.tls/);
  const noCert = writeConfig('no-cert.json', { tls: { ca: ca.cert } });
  const again = await runCliAsync(['run', '-c', noCert], {}, dir);
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, /local\.tls needs "cert" and "key"/);
  assert.deepEqual(await peers.research.instanceIds(), []);
});

test('full run over TLS: pulled through our TLS-only SCP, anonymized, pushed and confirmed over TLS', async () => {
  chmodSync(ours.key, 0o644);
  const res = await runCliAsync(['run', '-c', writeConfig('dicom-pipeline.json')], {}, dir);
  chmodSync(ours.key, 0o600);
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, /warning: private key .*pipeline\.key is readable by its group and others \(mode 644\): chmod 600/);
  assert.match(res.stdout, /C-ECHO STAGING@127\.0\.0\.1:\d+: ok \(\d+ ms, TLSv1\.[23] /);
  assert.match(res.stdout, /C-ECHO RESEARCH@127\.0\.0\.1:\d+: ok/);
  const instances = await peers.research.instances();
  assert.equal(instances.length, 5, 'both studies arrived');
  for (const inst of instances) {
    const text = (await peers.research.instanceFile(inst.id)).toString('latin1');
    for (const token of ['SECURE', 'CIPHER', 'TLS-1', 'TLS-2', ...FAKE_PHI]) assert.ok(!text.includes(token), `PHI token ${token} reached the research PACS`);
  }
  const runDir = RunDir.latest(join(dir, 'data'))!.path;
  assert.match(readFileSync(join(runDir, 'overview.txt'), 'utf8'), /^Received 5 files containing 2 studies$/m);
  assert.match(readFileSync(join(runDir, 'overview.txt'), 'utf8'), /^2 studies marked as pushed$/m);
  // Storage commitment over TLS: the research Orthanc's N-EVENT-REPORT came on a new TLS association into our SCP.
  assert.match(readFileSync(join(runDir, 'overview.txt'), 'utf8'), /^Pushed: stored: 5, confirmed: 5 \(storage commitment\), failed: 0$/m);
  const log = readFileSync(join(runDir, 'pipeline.log'), 'utf8');
  assert.doesNotMatch(log + res.stdout + res.stderr, /PRIVATE KEY|BEGIN CERTIFICATE/, 'no key or certificate material in logs or output');
});
