import type { Pool } from 'pg';
import { openPool, type PgTarget } from '../../anon/identity/pg-connect';
import { PipelineError } from '../../errors';
import { REVIEW_COLUMNS, reviewedStudy, reviewsDisagree, type ReviewRow } from './review-rows';
import type { ReviewSource, Selection, StudyOutcome } from './types';

/**
 * The review web app's database on PostgreSQL (django-dicom-review over django-dicom-models, as
 * Django creates it there: boolean columns). The same selection, conflict and marking rules as the
 * SQLite source; several pipeline instances may read and mark it at once (each marks its own studies).
 */
export class PgReviewSource implements ReviewSource {
  private constructor(private readonly pool: Pool, private readonly target: PgTarget, readonly options: { readonly readonly: boolean }) {}

  static async open(url: string, options: { readonly readonly: boolean }): Promise<PgReviewSource> {
    const { pool, target } = await openPool(url, 'review database', 2, 'E_CONFIG');
    try {
      await pool.query('SELECT id, original_study_uid, exclude, image_published, processing_error FROM staging_radiologystudy LIMIT 0');
      await pool.query(`SELECT ${REVIEW_COLUMNS.join(', ')}, exclude FROM staging_radiologystudyreview LIMIT 0`);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new PipelineError('E_CONFIG', `review database PostgreSQL ${target.label} is not a django-dicom-review database: ${(err as Error).message}`, { cause: err });
    }
    return new PgReviewSource(pool, target, options);
  }

  get description(): string {
    return `review database PostgreSQL ${this.target.label}`;
  }

  async select(max: number): Promise<Selection> {
    const rows = await this.pool.query<{ id: number; original_study_uid: string }>(`
      SELECT s.id, s.original_study_uid FROM staging_radiologystudy s
      WHERE NOT coalesce(s.exclude, false) AND NOT coalesce(s.image_published, false) AND NOT coalesce(s.processing_error, false)
        AND EXISTS (SELECT 1 FROM staging_radiologystudyreview r WHERE r.study_id = s.id
                    AND r.has_phi = false AND r.relevant = true AND r.has_reconstruction = false)
        AND NOT EXISTS (SELECT 1 FROM staging_radiologystudyreview r WHERE r.study_id = s.id AND coalesce(r.exclude, false))
      ORDER BY s.id LIMIT $1`, [max]);
    const ids = rows.rows.map((r) => r.id);
    // Booleans as 0/1, as the SQLite source reads them, so both share the rules in review-rows.ts.
    const reviews = await this.pool.query<ReviewRow>(`
      SELECT study_id, ${REVIEW_COLUMNS.slice(1).map((c) => (c === 'comment' ? c : `${c}::int AS ${c}`)).join(', ')}
      FROM staging_radiologystudyreview WHERE study_id = ANY($1::int[]) ORDER BY id`, [ids]);
    const byStudy = new Map<number, ReviewRow[]>();
    for (const r of reviews.rows) byStudy.set(r.study_id, [...(byStudy.get(r.study_id) ?? []), r]);
    const studies = rows.rows.map((row) => reviewedStudy(row.id, row.original_study_uid, byStudy.get(row.id) ?? []));
    const conflicts = studies.filter((_, i) => reviewsDisagree(byStudy.get(rows.rows[i].id) ?? []));
    return { studies, conflicts };
  }

  async protocolStudies(studyUids: readonly string[]): Promise<Set<string>> {
    const rows = await this.pool.query<{ uid: string }>(`
      SELECT DISTINCT s.original_study_uid AS uid FROM staging_radiologystudy s JOIN staging_radiologystudyreview r ON r.study_id = s.id
      WHERE s.original_study_uid = ANY($1::text[]) AND r.has_protocol_series AND r.has_phi = false AND r.relevant AND r.has_reconstruction = false`, [[...studyUids]]);
    return new Set(rows.rows.map((r) => r.uid));
  }

  async markOutcomes(outcomes: readonly StudyOutcome[]): Promise<void> {
    if (this.options.readonly || outcomes.length === 0) return;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      for (const o of outcomes) {
        if (o.pushed) {
          await client.query('UPDATE staging_radiologystudy SET image_published = true, study_uid = coalesce($1, study_uid), processing_error = false WHERE original_study_uid = $2',
            [o.anonymizedStudyUid ?? null, o.studyInstanceUid]);
        } else {
          await client.query('UPDATE staging_radiologystudy SET processing_error = true, processing_error_date = now(), processing_error_msg = $1 WHERE original_study_uid = $2',
            [(o.error ?? 'not pushed').slice(0, 255), o.studyInstanceUid]);
        }
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new PipelineError('E_STEP', `${this.description}: cannot record the outcomes: ${(err as Error).message}; resume with -r`, { cause: err });
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
