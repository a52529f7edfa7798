import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RunDir } from '../../src/run/run-dir';
import { tempDir } from '../helpers/anon-env';
import { ROOT, runCliAsync } from '../helpers/cli';
import { Orthanc } from '../helpers/orthanc';
import { startPipelinePeers, type PipelinePeers } from '../helpers/pipeline-peers';
import { createReviewDb } from '../helpers/review-db';

const A = '1.2.826.0.1.3680043.10.66.1';
const B = '1.2.826.0.1.3680043.10.66.2';
const C = '1.2.826.0.1.3680043.10.66.3';
const { dir, cleanup } = tempDir('dp-review-hooks-');
let peers: PipelinePeers;
let research: Orthanc;

before(async () => {
  peers = await startPipelinePeers([A, B, C].map((studyUid) => ({ patientId: 'PAT-H', patientName: 'HOOKER^HANNA', studyUid })));
  research = peers.research;
});

after(async () => {
  await peers?.stop();
  cleanup();
});

/** A site directory: config, review database, optional custom_hooks.js. */
function site(name: string, hook: string, reviewDb: string): string {
  const cwd = join(dir, name);
  mkdirSync(cwd, { recursive: true });
  writeFileSync(join(cwd, 'dicom-pipeline.json'), JSON.stringify(peers.config({
    review: { sqlite: reviewDb },
    identityDb: join(cwd, 'identity.db'),
    keyFile: join(cwd, 'identity.key'),
    postAnonHook: hook,
  })));
  return cwd;
}

const sha = (file: string): string => (existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent');

test('review database: practice leaves it, identity.db and the research PACS unchanged; a real run marks it; the example hook links studies', async () => {
  const reviewDb = join(dir, 'review-main.db');
  createReviewDb(reviewDb, [{ uid: A, reviews: [{}] }, { uid: B, reviews: [{ comment: 'ok' }] }]);
  const cwd = site('main', 'link-studies', reviewDb);
  copyFileSync(join(ROOT, 'examples', 'custom_hooks.js'), join(cwd, 'custom_hooks.js'));
  await research.clear();

  const before = [sha(reviewDb), sha(join(cwd, 'identity.db'))];
  const practice = await runCliAsync(['-p'], {}, cwd); // plain `dicom-pipeline` runs the pipeline
  assert.equal(practice.code, 0, `${practice.stdout}\n${practice.stderr}`);
  assert.deepEqual([sha(reviewDb), sha(join(cwd, 'identity.db'))], before);
  assert.deepEqual(await research.instanceIds(), []);
  const practiceRun = RunDir.latest(join(cwd, 'data'))!;
  assert.match(practiceRun.readOverview(), /^2 studies linked to 1 pseudonymous patients \(practice\)$/m);

  const real = await runCliAsync([], {}, cwd);
  assert.equal(real.code, 0, `${real.stdout}\n${real.stderr}`);
  const runDir = RunDir.latest(join(cwd, 'data'))!;
  assert.notEqual(runDir.path, practiceRun.path);
  assert.match(readFileSync(runDir.file('post_anon_output.txt'), 'utf8'), /^linked 2 studies to 1 patients/);
  const links = readFileSync(runDir.file('study_links.csv'), 'utf8').trim().split('\n').slice(1);
  assert.equal(links.length, 2);
  assert.equal(new Set(links.map((l) => l.split(',')[1])).size, 1, 'both studies link to one pseudonymous patient');
  const researchStudies = new Set((await research.instances()).map((i) => i.studyInstanceUid));
  const db = new Database(reviewDb, { readonly: true });
  const rows = db.prepare('SELECT original_study_uid, study_uid, image_published, processing_error FROM staging_radiologystudy ORDER BY id').all() as Array<Record<string, unknown>>;
  db.close();
  assert.deepEqual(rows.map((r) => [r.original_study_uid, r.image_published, r.processing_error]), [[A, 1, 0], [B, 1, 0]]);
  assert.ok(rows.every((r) => researchStudies.has(r.study_uid as string)), 'study_uid records the anonymized study at the research PACS');
});

test('conflicting reviews stop the run after writing its files; the operator edits studies_to_retrieve.txt and resumes', async () => {
  const reviewDb = join(dir, 'review-conflict.db');
  createReviewDb(reviewDb, [{ uid: A, reviews: [{}] }, { uid: C, reviews: [{ hasProtocolSeries: true }, { hasProtocolSeries: false }] }]);
  const cwd = site('conflict', 'simple', reviewDb);
  const stopped = await runCliAsync([], {}, cwd);
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /1 selected studies have conflicting reviews \(study id 2\).*studies_to_retrieve\.txt.*-r/);
  const run = RunDir.latest(join(cwd, 'data'))!;
  assert.deepEqual(run.readLines('studies_to_retrieve.txt'), [A, C]);
  assert.ok(existsSync(run.file('comments.txt')));
  writeFileSync(run.file('studies_to_retrieve.txt'), `${A}\n`);
  const resumed = await runCliAsync(['-r'], {}, cwd);
  assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
  assert.match(run.readOverview(), /^1 studies marked as pushed$/m);
});

test('a hook that throws fails its step with its message; fixed, -r resumes from the hook', async () => {
  const reviewDb = join(dir, 'review-hook.db');
  createReviewDb(reviewDb, [{ uid: B, reviews: [{}] }]);
  const cwd = site('hook', 'site-linker', reviewDb);
  const hookFile = join(cwd, 'custom_hooks.js');
  writeFileSync(hookFile, `require('dicom-pipeline/hooks').registry.register(() => { throw new Error('warehouse unreachable'); }, { name: 'site-linker' });\n`);
  const failed = await runCliAsync([], {}, cwd);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /post-anonymization hook "site-linker" failed: warehouse unreachable/);
  assert.doesNotMatch(failed.stderr, /\n\s+at /);
  const run = RunDir.latest(join(cwd, 'data'))!;
  assert.equal(run.loadState()!.steps.hook?.status, 'failed');
  writeFileSync(hookFile, `require('dicom-pipeline/hooks').registry.register(async (c) => 'linked in ' + require('path').basename(c.runDir), { name: 'site-linker' });\n`);
  const resumed = await runCliAsync(['-r'], {}, cwd);
  assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
  assert.match(run.readOverview(), /^Resuming at .* from step hook$/m);
  assert.equal(readFileSync(run.file('post_anon_output.txt'), 'utf8'), `linked in ${run.name}\n`);
});

test('an unknown hook is a configuration error that lists the known ones, before anything moves', async () => {
  const reviewDb = join(dir, 'review-unknown.db');
  createReviewDb(reviewDb, [{ uid: B, reviews: [{}] }]);
  const cwd = site('unknown', 'nonesuch', reviewDb);
  const res = await runCliAsync([], {}, cwd);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /postAnonHook "nonesuch" is not registered; known hooks: simple/);
  assert.equal(RunDir.latest(join(cwd, 'data')), undefined, 'no run directory was created');
});
