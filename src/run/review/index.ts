import type { PipelineConfig } from '../../config/schema';
import { PipelineError } from '../../errors';
import { CsvReviewSource } from './csv-source';
import { PgReviewSource } from './pg-source';
import { SqliteReviewSource } from './sqlite-source';
import type { ReviewSource } from './types';

export type { ReviewedStudy, ReviewSource, Selection, StudyOutcome } from './types';

/** Opens the configured review source; in practice runs the database is opened read-only. */
export async function openReviewSource(review: PipelineConfig['review'], practice: boolean): Promise<ReviewSource> {
  if (!review) throw new PipelineError('E_CONFIG', 'config has no "review" source: set {"csv": FILE}, {"sqlite": FILE} or {"postgres": URL}');
  if ('csv' in review) return new CsvReviewSource(review.csv);
  if ('postgres' in review) return PgReviewSource.open(review.postgres, { readonly: practice });
  return new SqliteReviewSource(review.sqlite, { readonly: practice });
}
