import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { PipelineError } from '../../errors';
import type { ReviewedStudy, ReviewSource, Selection, StudyOutcome } from './types';

const TRUE = new Set(['1', 'true', 'yes', 'y', 't']);
const FALSE = new Set(['', '0', 'false', 'no', 'n', 'f']);
const UID = /^[0-9]+(\.[0-9]+)*$/;

/**
 * A CSV review list for sites without the review app: header
 * `study_instance_uid,has_protocol_series,comment`, one row per review (a study may have several).
 * Outcomes are not written back: the run files record them.
 */
export class CsvReviewSource implements ReviewSource {
  private readonly studies: ReviewedStudy[];
  private readonly conflicting: Set<string>;

  constructor(readonly path: string) {
    let rows: Record<string, string>[];
    try {
      rows = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true, trim: true, bom: true });
    } catch (err) {
      throw new PipelineError('E_CONFIG', `review list ${path}: ${(err as Error).message}`, { cause: err });
    }
    const problems: string[] = [];
    if (rows.length && !('study_instance_uid' in rows[0])) problems.push('the header must be study_instance_uid,has_protocol_series,comment');
    const byUid = new Map<string, { study: ReviewedStudy; protocol: Set<boolean> }>();
    rows.forEach((row, i) => {
      const line = i + 2;
      const uid = row.study_instance_uid ?? '';
      const flag = (row.has_protocol_series ?? '').toLowerCase();
      const before = problems.length;
      if (!UID.test(uid) || uid.length > 64) problems.push(`line ${line}: study_instance_uid is not a valid UID`);
      if (!TRUE.has(flag) && !FALSE.has(flag)) problems.push(`line ${line}: has_protocol_series must be true or false`);
      if (problems.length > before) return;
      const entry = byUid.get(uid) ?? { study: { studyInstanceUid: uid, hasProtocolSeries: false, comments: [], label: `line ${line}` }, protocol: new Set<boolean>() };
      entry.protocol.add(TRUE.has(flag));
      const comments = row.comment ? [...entry.study.comments, row.comment] : entry.study.comments;
      entry.study = { ...entry.study, hasProtocolSeries: entry.protocol.has(true), comments };
      byUid.set(uid, entry);
    });
    if (problems.length) throw new PipelineError('E_CONFIG', `review list ${path}:\n  ${problems.slice(0, 20).join('\n  ')}`);
    this.studies = [...byUid.values()].map((e) => e.study);
    this.conflicting = new Set([...byUid.values()].filter((e) => e.protocol.size > 1).map((e) => e.study.studyInstanceUid));
  }

  get description(): string {
    return `review list ${this.path}`;
  }

  select(max: number): Selection {
    const studies = this.studies.slice(0, max);
    return { studies, conflicts: studies.filter((s) => this.conflicting.has(s.studyInstanceUid)) };
  }

  protocolStudies(studyUids: readonly string[]): Set<string> {
    const wanted = new Set(studyUids);
    return new Set(this.studies.filter((s) => s.hasProtocolSeries && wanted.has(s.studyInstanceUid)).map((s) => s.studyInstanceUid));
  }

  markOutcomes(_outcomes: readonly StudyOutcome[]): void {
    // A CSV is an input only; done.txt and overview.txt carry the outcome.
  }

  close(): void {}
}
