import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fg from 'fast-glob';
import { RunDir } from '../../src/run/run-dir';
import { tempDir } from '../helpers/anon-env';
import { runCliAsync, type CliResult } from '../helpers/cli';
import { startWebOrthanc, WEB_PASSWORD, WEB_USER, type WebOrthanc } from '../helpers/orthanc-web';
import { startPipelinePeers, type PipelinePeers } from '../helpers/pipeline-peers';
import { assertConfirmedOnce } from '../helpers/run-journal';

const PER_STUDY = 12;
const STUDY_UIDS = ['1.2.826.0.1.3680043.10.89.1', '1.2.826.0.1.3680043.10.89.2'];
const { dir, cleanup } = tempDir('dp-web-run-');
let peers: PipelinePeers;
let web: WebOrthanc;

before(async () => {
  peers = await startPipelinePeers(STUDY_UIDS.map((studyUid) => ({ patientId: 'PAT-W', patientName: 'WEBSTER^WANDA', studyUid, instances: PER_STUDY })));
  web = await startWebOrthanc({ https: true });
  writeFileSync(join(dir, 'reviewed.csv'), `study_instance_uid,has_protocol_series,comment\n${STUDY_UIDS.map((u) => `${u},false,`).join('\n')}\n`);
});

after(async () => {
  await web?.stop();
  await peers?.stop();
  cleanup();
});

/** A fresh data directory and a config whose research destination is the DICOMweb archive over HTTPS. */
function scenario(name: string, passwordFile = web.passwordFile): { config: string; dataDir: string } {
  const dataDir = join(dir, name, 'data');
  mkdirSync(dataDir, { recursive: true });
  const config = join(dir, name, 'config.json');
  writeFileSync(config, JSON.stringify(peers.config({
    research: { url: web.url, auth: { basic: { user: WEB_USER, passwordFile } }, tls: { ca: web.caFile }, filesPerRequest: 5 },
    review: { csv: join(dir, 'reviewed.csv') },
    identityDb: join(dir, 'identity.db'),
    keyFile: join(dir, 'identity.key'),
    dataDir,
  })));
  return { config, dataDir };
}

function run(config: string, extra: string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
  return runCliAsync(['run', '-c', config, ...extra], env, dir);
}

/** Every instance at the archive once, each confirmed by QIDO-RS, none sent again after its confirmation. */
async function assertCompleteOnce(dataDir: string): Promise<void> {
  const uids = (await web.orthanc.instances()).map((i) => i.sopInstanceUid);
  assert.equal(uids.length, 2 * PER_STUDY);
  assert.equal(new Set(uids).size, uids.length);
  assertConfirmedOnce(dataDir, 2 * PER_STUDY, 'QIDO-RS');
}

/** No file of the run directory holds the password. */
function assertNoSecretIn(dataDir: string): void {
  for (const file of fg.sync('**/*', { cwd: RunDir.latest(dataDir)!.path, absolute: true, onlyFiles: true })) {
    assert.ok(!readFileSync(file).includes(WEB_PASSWORD), `${file} holds the password`);
  }
}

test('a whole run whose research destination is a DICOMweb archive over HTTPS', async () => {
  await web.orthanc.clear();
  const { config, dataDir } = scenario('whole');
  const res = await run(config);
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, new RegExp(`DICOMweb ${web.url.replace(/[/.]/g, '\\$&')}: reachable \\(HTTP 200 OK`));
  assert.match(res.stdout, /push: 2 of 2 studies delivered; stored: 24, confirmed: 24 \(QIDO-RS\), failed: 0/);
  await assertCompleteOnce(dataDir);
  const runDir = RunDir.latest(dataDir)!;
  assert.match(readFileSync(runDir.file('done.txt'), 'utf8'), /pushed as /);
  assert.match(runDir.readOverview(), /^2 studies marked as pushed$/m);
  assertNoSecretIn(dataDir);
  const printed = await runCliAsync(['run', '-c', config, '--print-config'], {}, dir);
  assert.ok(!printed.stdout.includes(WEB_PASSWORD));
  assert.match(printed.stdout, /"url": "https:\/\/127\.0\.0\.1/);
});

test('wrong password: exit 1 with a line naming the credential, nothing marked pushed; fixed, then -r', async () => {
  await web.orthanc.clear();
  const { config, dataDir } = scenario('wrong-password', web.wrongPasswordFile);
  const refused = await run(config);
  assert.equal(refused.code, 1, `${refused.stdout}\n${refused.stderr}`);
  assert.match(refused.stderr, new RegExp(`refused user "${WEB_USER}" with the password in \\S+wrong-password \\(HTTP 401 Unauthorized\\)`));
  assert.doesNotMatch(refused.stderr, /\n\s+at /);
  assert.deepEqual(await web.orthanc.instanceIds(), []);
  assert.doesNotMatch(RunDir.latest(dataDir)!.readOverview(), /marked as pushed/);
  writeFileSync(config, readFileSync(config, 'utf8').replace(web.wrongPasswordFile, web.passwordFile));
  const fixed = await run(config, ['-r']);
  assert.equal(fixed.code, 0, `${fixed.stdout}\n${fixed.stderr}`);
  await assertCompleteOnce(dataDir);
});

test('kill -9 during a DICOMweb push, then -r: every instance arrives, none confirmed twice', async () => {
  await web.orthanc.clear();
  const { config, dataDir } = scenario('kill-push');
  // After the first study was confirmed and one STOW-RS request of the second was answered.
  const killed = await run(config, [], { DICOM_PIPELINE_CRASH_AT: `push:${PER_STUDY + 3}` });
  assert.equal(killed.code, null, `the run was killed (${killed.stdout} ${killed.stderr})`);
  assert.notEqual(RunDir.latest(dataDir)!.loadState()!.steps.push?.status, 'done');
  const stored = (await web.orthanc.instanceIds()).length;
  assert.ok(stored > PER_STUDY && stored < 2 * PER_STUDY, `killed mid-study (${stored} stored)`);
  const resumed = await run(config, ['-r']);
  assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
  assert.match(resumed.stdout, /1 of 1 studies delivered, 1 delivered earlier/);
  await assertCompleteOnce(dataDir);
});
