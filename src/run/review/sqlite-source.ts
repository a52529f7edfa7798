import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { PipelineError } from '../../errors';
import { reviewedStudy, reviewsDisagree, type ReviewRow } from './review-rows';
import type { ReviewedStudy, ReviewSource, Selection, StudyOutcome } from './types';

interface StudyRow {
  id: number;
  original_study_uid: string;
}

/**
 * The review web app's database (django-dicom-review over django-dicom-models). Selects as the old
 * pipeline did: a review says no PHI, relevant, no reconstruction; the study is not excluded, not
 * published, has no processing error; no review of it says exclude. Ordered by study id.
 */
export class SqliteReviewSource implements ReviewSource {
  private readonly db: Database.Database;

  constructor(readonly path: string, readonly options: { readonly readonly: boolean }) {
    if (!existsSync(path)) throw new PipelineError('E_CONFIG', `review database ${path} not found`);
    try {
      this.db = new Database(path, { readonly: options.readonly, fileMustExist: true, timeout: 30_000 });
      this.db.prepare('SELECT id, original_study_uid, exclude, image_published, processing_error FROM staging_radiologystudy LIMIT 0').all();
      this.db.prepare('SELECT study_id, has_phi, relevant, has_reconstruction, has_protocol_series, exclude, comment FROM staging_radiologystudyreview LIMIT 0').all();
    } catch (err) {
      throw new PipelineError('E_CONFIG', `review database ${path} is not a django-dicom-review database: ${(err as Error).message}`, { cause: err });
    }
  }

  get description(): string {
    return `review database ${this.path}`;
  }

  select(max: number): Selection {
    const rows = this.db.prepare<[number], StudyRow>(`
      SELECT s.id, s.original_study_uid FROM staging_radiologystudy s
      WHERE coalesce(s.exclude, 0) = 0 AND coalesce(s.image_published, 0) = 0 AND coalesce(s.processing_error, 0) = 0
        AND EXISTS (SELECT 1 FROM staging_radiologystudyreview r WHERE r.study_id = s.id
                    AND r.has_phi = 0 AND r.relevant = 1 AND r.has_reconstruction = 0)
        AND NOT EXISTS (SELECT 1 FROM staging_radiologystudyreview r WHERE r.study_id = s.id AND coalesce(r.exclude, 0) = 1)
      ORDER BY s.id LIMIT ?`).all(max);
    const reviews = this.db.prepare<[number], ReviewRow>(
      'SELECT study_id, has_phi, relevant, has_reconstruction, has_protocol_series, comment FROM staging_radiologystudyreview WHERE study_id = ? ORDER BY id');
    const studies: ReviewedStudy[] = [];
    const conflicts: ReviewedStudy[] = [];
    for (const row of rows) {
      const rs = reviews.all(row.id);
      const study = reviewedStudy(row.id, row.original_study_uid, rs);
      studies.push(study);
      if (reviewsDisagree(rs)) conflicts.push(study);
    }
    return { studies, conflicts };
  }

  protocolStudies(studyUids: readonly string[]): Set<string> {
    const stmt = this.db.prepare<[string], { n: number }>(`
      SELECT count(*) AS n FROM staging_radiologystudy s JOIN staging_radiologystudyreview r ON r.study_id = s.id
      WHERE s.original_study_uid = ? AND r.has_protocol_series = 1 AND r.has_phi = 0 AND r.relevant = 1 AND r.has_reconstruction = 0`);
    return new Set(studyUids.filter((uid) => (stmt.get(uid)?.n ?? 0) > 0));
  }

  markOutcomes(outcomes: readonly StudyOutcome[]): void {
    if (this.options.readonly) return;
    const pushed = this.db.prepare(
      'UPDATE staging_radiologystudy SET image_published = 1, study_uid = coalesce(?, study_uid), processing_error = 0 WHERE original_study_uid = ?');
    const failed = this.db.prepare(
      'UPDATE staging_radiologystudy SET processing_error = 1, processing_error_date = ?, processing_error_msg = ? WHERE original_study_uid = ?');
    const now = new Date().toISOString().replace('T', ' ').slice(0, 19);
    this.db.transaction(() => {
      for (const o of outcomes) {
        if (o.pushed) pushed.run(o.anonymizedStudyUid ?? null, o.studyInstanceUid);
        else failed.run(now, (o.error ?? 'not pushed').slice(0, 255), o.studyInstanceUid);
      }
    }).immediate();
  }

  close(): void {
    this.db.close();
  }
}
