import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { findElement } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { decodeText } from '../../src/dicom/values';
import { tempDir } from '../helpers/anon-env';
import { runCliAsync, type CliResult } from '../helpers/cli';
import { freePort } from '../helpers/ports';
import { startPipelinePeers, type PipelinePeers } from '../helpers/pipeline-peers';
import { Postgres } from '../helpers/postgres';
import { createPgReviewDb, createReviewDb } from '../helpers/review-db';
import { CLAIMS_SCHEMA } from '../../src/run/coordination/claims';
import type { FakeStudy } from '../helpers/studies';

/**
 * Several instances on one PostgreSQL store: two `run`s at once sharing staging, research, the review
 * database and the identity store, each with its own LOCAL_AE, port and data directory.
 */
const { dir, cleanup } = tempDir('dp-shared-');
let peers: PipelinePeers;
let pg: Postgres;
let secondPort: number;

const study = (set: number, i: number, patient: number): FakeStudy =>
  ({ patientId: `SHARED-${set}-${patient}`, patientName: `SHAREDNAME^P${patient}`, studyUid: `1.2.826.0.1.3680043.10.88.${set}.${i}`, instances: 2 });
const TEN = Array.from({ length: 10 }, (_, i) => study(1, i, i % 5));
const CRASH = Array.from({ length: 4 }, (_, i) => study(2, i, i));
const MIGRATED = [study(3, 0, 0), study(3, 1, 0)];
const STALE = [study(4, 0, 0), study(4, 1, 1), study(4, 2, 2)];

before(async () => {
  pg = await Postgres.start({ settings: { fsync: 'off' } });
  peers = await startPipelinePeers([...TEN, ...CRASH, ...MIGRATED, ...STALE]);
  secondPort = await freePort();
  const second = { aeTitle: 'DCMQR2', host: '127.0.0.1', port: secondPort };
  await peers.staging.setModality('pipeline2', second);
  await peers.research.setModality('pipeline2', second);
});

after(async () => {
  await peers?.stop();
  pg?.stop();
  cleanup();
});

function config(name: string, instance: 1 | 2, extra: Record<string, unknown>): string {
  const file = join(dir, `${name}-${instance}.json`);
  const base = peers.config({ keyFile: join(dir, 'identity.key'), dicomRoot: '1.2.826.0.1.3680043.10.99', dataDir: join(dir, `${name}-data-${instance}`), ...extra });
  if (instance === 2) base.local = { aet: 'DCMQR2', port: secondPort };
  writeFileSync(file, JSON.stringify(base, null, 2));
  return file;
}

function run(file: string, env: Record<string, string> = {}): Promise<CliResult> {
  return runCliAsync(['run', '-c', file], env, dir);
}

/** Every done.txt line of every run directory under the data directories. */
function doneLines(...dataDirs: string[]): string[] {
  return dataDirs.filter(existsSync).flatMap((d) => readdirSync(d).map((r) => join(d, r, 'done.txt')).filter(existsSync)
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean)));
}

async function researchPatients(studyUids: ReadonlySet<string>): Promise<Map<string, string>> {
  const byStudy = new Map<string, string>();
  for (const inst of await peers.research.instances()) {
    if (!studyUids.has(inst.studyInstanceUid)) continue;
    const ds = parsePart10(await peers.research.instanceFile(inst.id)).dataset;
    byStudy.set(inst.studyInstanceUid, decodeText(findElement(ds, 0x00100020)!));
  }
  return byStudy;
}

function published(reviewDb: string): number {
  const db = new Database(reviewDb, { readonly: true });
  try {
    return db.prepare('select count(*) from staging_radiologystudy where image_published = 1').pluck().get() as number;
  } finally {
    db.close();
  }
}

test('two instances at once on 10 studies of 5 patients: each study reaches research once, one pseudonym per patient', async () => {
  // Everything shared on PostgreSQL: the identity store and the review app's database.
  const url = pg.createDb('shared');
  const reviewUrl = pg.createDb('review_ten');
  createPgReviewDb((db, sql) => pg.psql(db, sql), 'review_ten', TEN.map((s) => ({ uid: s.studyUid, reviews: [{}] })));
  const shared = { identityDb: url, review: { postgres: reviewUrl }, coordination: { leaseS: 30, gatherS: 2 } };
  const [a, b] = await Promise.all([run(config('ten', 1, shared)), run(config('ten', 2, shared))]);
  assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
  assert.equal(b.code, 0, `${b.stdout}\n${b.stderr}`);
  assert.ok(!(a.stdout + a.stderr + b.stdout + b.stderr).includes(pg.password), 'the password never shows');

  const pushed = doneLines(join(dir, 'ten-data-1'), join(dir, 'ten-data-2')).filter((l) => /\tpushed as /.test(l));
  for (const s of TEN) assert.equal(pushed.filter((l) => l.startsWith(`${s.studyUid}\t`)).length, 1, `${s.studyUid} pushed by exactly one instance`);
  const perInstance = [1, 2].map((i) => doneLines(join(dir, `ten-data-${i}`)).length);
  assert.ok(perInstance.every((n) => n > 0), `both instances worked: ${perInstance}`);

  const cleanedStudies = new Set(pushed.map((l) => l.split('pushed as ')[1]));
  const instances = (await peers.research.instances()).filter((i) => cleanedStudies.has(i.studyInstanceUid));
  assert.equal(instances.length, 20, 'every instance exactly once');
  const patients = await researchPatients(cleanedStudies);
  assert.equal(new Set(patients.values()).size, 5, 'one pseudonym per patient across instances');
  // The documented re-identification queries, on PostgreSQL.
  for (const line of pushed) {
    const [original, , cleaned] = line.split(/\t|pushed as /);
    assert.deepEqual(pg.psql('shared', `select original from studyuid where cleaned = '${cleaned}'`), [original]);
    const patient = pg.psql('shared', `select p.original from study_patient s join patient p on p.cleaned = s.patient_cleaned where s.study_cleaned = '${cleaned}'`);
    assert.deepEqual(patient, [TEN.find((s) => s.studyUid === original)!.patientId]);
  }
  assert.deepEqual(pg.psql('shared', 'select count(*) from patient_map'), ['5']);
  assert.deepEqual(pg.psql('review_ten', 'select count(*) from staging_radiologystudy where image_published and study_uid is not null'), ['10'], 'the review database marked for every study');
  const overviews = [1, 2].map((i) => {
    const d = join(dir, `ten-data-${i}`);
    return readFileSync(join(d, readdirSync(d)[0], 'overview.txt'), 'utf8');
  });
  assert.ok(overviews.some((o) => /selected studies are held by other instances/.test(o) && /studies were pushed by other instances/.test(o)), overviews.join('\n---\n'));
});

test('kill -9 of one instance mid-run: the other takes its studies over after the lease; nothing lost', async () => {
  const url = pg.createDb('crash');
  const reviewDb = join(dir, 'review-crash.db');
  createReviewDb(reviewDb, CRASH.map((s) => ({ uid: s.studyUid, reviews: [{}] })));
  const shared = { identityDb: url, review: { sqlite: reviewDb }, coordination: { leaseS: 6, gatherS: 2 } };
  const [crashed, survivor] = await Promise.all([
    run(config('crash', 1, shared), { DICOM_PIPELINE_CRASH_AT: 'push:1' }),
    run(config('crash', 2, shared)),
  ]);
  assert.equal(crashed.code, null, 'the first instance was killed');
  assert.equal(survivor.code, 0, `${survivor.stdout}\n${survivor.stderr}`);
  assert.match(survivor.stdout, /Taking over 2 studies that no live instance holds/);
  const pushed = doneLines(join(dir, 'crash-data-1'), join(dir, 'crash-data-2')).filter((l) => /\tpushed as /.test(l));
  for (const s of CRASH) assert.equal(pushed.filter((l) => l.startsWith(`${s.studyUid}\t`)).length, 1, `${s.studyUid} pushed once`);
  const cleaned = new Set(pushed.map((l) => l.split('pushed as ')[1]));
  const instances = (await peers.research.instances()).filter((i) => cleaned.has(i.studyInstanceUid));
  assert.equal(new Set(instances.map((i) => i.sopInstanceUid)).size, 8, 'every instance of the 4 studies reached research');
  assert.equal(instances.length, 8, 'none twice');
  assert.equal(published(reviewDb), 4);
  assert.deepEqual(pg.psql('crash', "select count(*) from study_claim where state = 'done'"), ['4']);
  // Resuming the killed run later drops what was taken over: nothing is done twice.
  const resumed = await runCliAsync(['run', '-c', config('crash', 1, shared), '-r'], {}, dir);
  assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
  const crashedRun = join(dir, 'crash-data-1', readdirSync(join(dir, 'crash-data-1'))[0]);
  assert.match(readFileSync(join(crashedRun, 'overview.txt'), 'utf8'), /2 studies of this run were taken over by other instances meanwhile/);
  assert.equal(doneLines(join(dir, 'crash-data-1'), join(dir, 'crash-data-2')).filter((l) => /\tpushed as /.test(l)).length, 4);
  assert.equal((await peers.research.instances()).filter((i) => cleaned.has(i.studyInstanceUid)).length, 8);
});

test('a store migrated from a real SQLite run gives the same pseudonyms to the same patients on PostgreSQL', async () => {
  const [before, later] = MIGRATED;
  const firstReview = join(dir, 'review-m1.db');
  createReviewDb(firstReview, [{ uid: before.studyUid, reviews: [{}] }]);
  const sqliteRun = await run(config('m1', 1, { identityDb: join(dir, 'identity.db'), review: { sqlite: firstReview } }));
  assert.equal(sqliteRun.code, 0, `${sqliteRun.stdout}\n${sqliteRun.stderr}`);
  const url = pg.createDb('migrated');
  const migrate = await runCliAsync(['identity', 'migrate', '--from', join(dir, 'identity.db'), '--to', url, '-c', config('m1', 1, {})], {}, dir);
  assert.equal(migrate.code, 0, migrate.stderr);
  const secondReview = join(dir, 'review-m2.db');
  createReviewDb(secondReview, [{ uid: later.studyUid, reviews: [{}] }]);
  const pgRun = await run(config('m2', 1, { identityDb: url, review: { sqlite: secondReview }, coordination: { gatherS: 0 } }));
  assert.equal(pgRun.code, 0, `${pgRun.stdout}\n${pgRun.stderr}`);
  const pushed = doneLines(join(dir, 'm1-data-1'), join(dir, 'm2-data-1')).filter((l) => /\tpushed as /.test(l)).map((l) => l.split('pushed as ')[1]);
  assert.equal(pushed.length, 2);
  const patients = await researchPatients(new Set(pushed));
  assert.equal(patients.size, 2);
  assert.equal(new Set(patients.values()).size, 1, 'the patient keeps the pseudonym made on SQLite');

  // A practice run on the PostgreSQL store works on a SQLite copy: same pseudonyms, nothing written to PostgreSQL.
  const counts = (): string[] => pg.psql('migrated', "select (select count(*) from uid_map) || '/' || (select count(*) from study_claim)");
  const before3 = counts();
  const thirdReview = join(dir, 'review-m3.db');
  createReviewDb(thirdReview, [{ uid: later.studyUid, reviews: [{}] }]);
  const practice = await runCliAsync(['run', '-p', '-c', config('m3', 1, { identityDb: url, review: { sqlite: thirdReview } })], {}, dir);
  assert.equal(practice.code, 0, `${practice.stdout}\n${practice.stderr}`);
  assert.deepEqual(counts(), before3, 'the shared store is never written by a practice run');
  const runDir = join(dir, 'm3-data-1', readdirSync(join(dir, 'm3-data-1'))[0]);
  assert.ok(existsSync(join(runDir, 'identity.practice.db')));
  const produced = readdirSync(join(runDir, 'to_production'));
  assert.deepEqual(produced, [pushed[1]], 'the study gets the UID the real run gave it');
});

test('studies left unclaimed by an instance that announced itself and never claimed are taken over', async () => {
  const url = pg.createDb('stale');
  // An instance that announced itself (so the split counts it) and then hung before claiming anything.
  pg.psql('stale', `${CLAIMS_SCHEMA} INSERT INTO pipeline_instance VALUES ('GHOST@elsewhere/run_at_1', now(), now() + interval '1 hour');`);
  const reviewDb = join(dir, 'review-stale.db');
  createReviewDb(reviewDb, STALE.map((s) => ({ uid: s.studyUid, reviews: [{}] })));
  const res = await run(config('stale', 1, { identityDb: url, review: { sqlite: reviewDb }, coordination: { leaseS: 30, gatherS: 0 } }));
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, /Taking over 1 studies that no live instance holds/);
  const pushed = doneLines(join(dir, 'stale-data-1')).filter((l) => /\tpushed as /.test(l));
  assert.equal(pushed.length, 3, 'the first run did 2 of 3, a second run the one left unclaimed');
  assert.equal(published(reviewDb), 3);
});
