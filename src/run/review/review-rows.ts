import type { ReviewedStudy } from './types';

/** One review as both database sources read it (booleans as 0/1). */
export interface ReviewRow {
  study_id: number;
  has_phi: number | null;
  relevant: number | null;
  has_reconstruction: number | null;
  has_protocol_series: number | null;
  comment: string | null;
}

export const REVIEW_COLUMNS = ['study_id', 'has_phi', 'relevant', 'has_reconstruction', 'has_protocol_series', 'comment'] as const;

export function reviewedStudy(id: number, originalStudyUid: string, reviews: readonly ReviewRow[]): ReviewedStudy {
  return {
    studyInstanceUid: originalStudyUid.trim(),
    hasProtocolSeries: reviews.some((r) => r.has_protocol_series === 1),
    comments: reviews.map((r) => r.comment ?? '').filter((c) => c.trim()),
    label: `study id ${id}`,
  };
}

/** Reviews of one study that disagree on what decides its fate: the run stops for an operator. */
export function reviewsDisagree(reviews: readonly ReviewRow[]): boolean {
  const disagree = (key: keyof ReviewRow): boolean => new Set(reviews.map((r) => r[key] ?? 0)).size > 1;
  return disagree('has_phi') || disagree('relevant') || disagree('has_reconstruction') || disagree('has_protocol_series');
}
