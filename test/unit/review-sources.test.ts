import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CsvReviewSource } from '../../src/run/review/csv-source';
import { SqliteReviewSource } from '../../src/run/review/sqlite-source';
import { PipelineError } from '../../src/errors';
import { tempDir } from '../helpers/anon-env';
import { createReviewDb, SELECTION_FIXTURE } from '../helpers/review-db';

test('sqlite: selects as the old pipeline did, in id order, limited, with conflicts reported', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'review.db');
    createReviewDb(path, SELECTION_FIXTURE);
    const source = new SqliteReviewSource(path, { readonly: true });
    const all = source.select(100);
    assert.deepEqual(all.studies.map((s) => s.studyInstanceUid), ['1.1', '1.7', '1.10', '1.11']);
    assert.deepEqual(all.conflicts.map((s) => s.label), ['study id 7']);
    assert.deepEqual(all.studies[0].comments, ['fine']);
    assert.deepEqual(source.select(2).studies.map((s) => s.studyInstanceUid), ['1.1', '1.7']);
    assert.deepEqual([...source.protocolStudies(['1.1', '1.7', '1.10'])].sort(), ['1.10', '1.7']);
    source.close();
  } finally {
    cleanup();
  }
});

test('sqlite: outcomes set image_published and study_uid, or processing_error with its message; read-only writes nothing', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'review.db');
    createReviewDb(path, [{ uid: '2.1', reviews: [{}] }, { uid: '2.2', reviews: [{}] }]);
    const readonly = new SqliteReviewSource(path, { readonly: true });
    readonly.markOutcomes([{ studyInstanceUid: '2.1', pushed: true, anonymizedStudyUid: '9.9' }]);
    readonly.close();
    const source = new SqliteReviewSource(path, { readonly: false });
    source.markOutcomes([
      { studyInstanceUid: '2.1', pushed: true, anonymizedStudyUid: '9.9.1' },
      { studyInstanceUid: '2.2', pushed: false, error: 'pull incomplete: received 1 of 2 instances' },
    ]);
    source.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT original_study_uid, study_uid, image_published, processing_error, processing_error_msg FROM staging_radiologystudy ORDER BY id').all();
    db.close();
    assert.deepEqual(rows, [
      { original_study_uid: '2.1', study_uid: '9.9.1', image_published: 1, processing_error: 0, processing_error_msg: null },
      { original_study_uid: '2.2', study_uid: null, image_published: 0, processing_error: 1, processing_error_msg: 'pull incomplete: received 1 of 2 instances' },
    ]);
  } finally {
    cleanup();
  }
});

test('sqlite: a database of another shape is a clear config error', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'other.db');
    new Database(path).exec('CREATE TABLE t (x)');
    assert.throws(() => new SqliteReviewSource(path, { readonly: true }), (e: unknown) => e instanceof PipelineError && e.code === 'E_CONFIG' && /not a django-dicom-review database/.test(e.message));
  } finally {
    cleanup();
  }
});

test('csv: reviews per row, comments with commas, conflicts, every bad row listed', () => {
  const { dir, cleanup } = tempDir();
  try {
    const good = join(dir, 'reviewed.csv');
    writeFileSync(good, 'study_instance_uid,has_protocol_series,comment\n1.2.3,true,"protocol, page 2"\n1.2.4,false,\n1.2.3,false,second reviewer\n');
    const source = new CsvReviewSource(good);
    const selection = source.select(10);
    assert.deepEqual(selection.studies.map((s) => s.studyInstanceUid), ['1.2.3', '1.2.4']);
    assert.deepEqual(selection.studies[0].comments, ['protocol, page 2', 'second reviewer']);
    assert.deepEqual(selection.conflicts.map((s) => s.studyInstanceUid), ['1.2.3']);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'study_instance_uid,has_protocol_series,comment\nnot-a-uid,true,\n1.2.5,maybe,\n');
    assert.throws(() => new CsvReviewSource(bad), (e: unknown) => e instanceof PipelineError && /line 2/.test(e.message) && /line 3/.test(e.message));
  } finally {
    cleanup();
  }
});
