import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PgReviewSource } from '../../src/run/review/pg-source';
import { SqliteReviewSource } from '../../src/run/review/sqlite-source';
import { tempDir } from '../helpers/anon-env';
import { Postgres } from '../helpers/postgres';
import { createPgReviewDb, createReviewDb, SELECTION_FIXTURE } from '../helpers/review-db';

/** review: {"postgres": URL} reads and marks the review app's database by the same rules as the SQLite source. */
const work = tempDir('dp-review-pg-');
let pg: Postgres;

before(async () => {
  pg = await Postgres.start({ settings: { fsync: 'off' } });
});
after(() => {
  pg?.stop();
  work.cleanup();
});

const STUDIES = SELECTION_FIXTURE;

test('postgres: the same selection, conflicts and protocol studies as the SQLite source on the same reviews', async () => {
  const url = pg.createDb('review_same');
  createPgReviewDb((db, sql) => pg.psql(db, sql), 'review_same', STUDIES);
  const file = join(work.dir, 'review.db');
  createReviewDb(file, STUDIES);
  const sqlite = new SqliteReviewSource(file, { readonly: true });
  const postgres = await PgReviewSource.open(url, { readonly: true });
  try {
    for (const max of [100, 2]) assert.deepEqual(await postgres.select(max), sqlite.select(max));
    const all = await postgres.select(100);
    assert.deepEqual(all.studies.map((s) => s.studyInstanceUid), ['1.1', '1.7', '1.10', '1.11']);
    assert.deepEqual(all.conflicts.map((s) => s.label), ['study id 7']);
    assert.deepEqual([...await postgres.protocolStudies(['1.1', '1.7', '1.10'])].sort(), [...sqlite.protocolStudies(['1.1', '1.7', '1.10'])].sort());
    assert.ok(!postgres.description.includes(pg.password));
  } finally {
    sqlite.close();
    await postgres.close();
  }
});

test('postgres: outcomes set image_published and study_uid, or processing_error with its message; read-only (practice) writes nothing', async () => {
  const url = pg.createDb('review_mark');
  createPgReviewDb((db, sql) => pg.psql(db, sql), 'review_mark', [{ uid: '2.1', reviews: [{}] }, { uid: '2.2', reviews: [{}] }]);
  const readonly = await PgReviewSource.open(url, { readonly: true });
  await readonly.markOutcomes([{ studyInstanceUid: '2.1', pushed: true, anonymizedStudyUid: '9.9' }]);
  await readonly.close();
  assert.deepEqual(pg.psql('review_mark', 'select count(*) from staging_radiologystudy where image_published'), ['0']);
  const source = await PgReviewSource.open(url, { readonly: false });
  await source.markOutcomes([
    { studyInstanceUid: '2.1', pushed: true, anonymizedStudyUid: '9.9.1' },
    { studyInstanceUid: '2.2', pushed: false, error: 'pull incomplete: received 1 of 2 instances' },
  ]);
  assert.deepEqual((await source.select(10)).studies, [], 'marked studies are not selected again');
  await source.close();
  assert.deepEqual(pg.psql('review_mark', 'select original_study_uid, coalesce(study_uid, \'-\'), image_published, processing_error, coalesce(processing_error_msg, \'-\'), processing_error_date is not null from staging_radiologystudy order by id'), [
    '2.1\t9.9.1\tt\tf\t-\tf',
    '2.2\t-\tf\tt\tpull incomplete: received 1 of 2 instances\tt',
  ]);
});

test('postgres: another database is a clear config error naming host, port and database', async () => {
  const url = pg.createDb('not_review');
  await assert.rejects(PgReviewSource.open(url, { readonly: true }), (err: Error & { code?: string }) =>
    err.code === 'E_CONFIG' && /PostgreSQL 127\.0\.0\.1:\d+, database "not_review" is not a django-dicom-review database/.test(err.message) && !err.message.includes(pg.password));
  await assert.rejects(PgReviewSource.open(pg.url('not_review', 'wrong'), { readonly: true }), (err: Error & { code?: string }) =>
    err.code === 'E_CONFIG' && /review database: PostgreSQL at 127\.0\.0\.1:\d+, database "not_review" .*password refused/.test(err.message));
});
