import Database from 'better-sqlite3';

export interface ReviewRow {
  readonly hasPhi?: boolean;
  readonly relevant?: boolean;
  readonly hasReconstruction?: boolean;
  readonly hasProtocolSeries?: boolean;
  readonly exclude?: boolean;
  readonly comment?: string;
}

export interface StudyRow {
  readonly uid: string;
  readonly exclude?: boolean;
  readonly published?: boolean;
  readonly processingError?: boolean;
  readonly reviews: readonly ReviewRow[];
}

/** Reviews that exercise every selection rule: selected are 1.1, 1.7 (a conflict), 1.10 and 1.11. */
export const SELECTION_FIXTURE: readonly StudyRow[] = [
  { uid: '1.1', reviews: [{ comment: 'fine' }] },
  { uid: '1.2', reviews: [{ hasPhi: true }] },
  { uid: '1.3', exclude: true, reviews: [{}] },
  { uid: '1.4', published: true, reviews: [{}] },
  { uid: '1.5', processingError: true, reviews: [{}] },
  { uid: '1.6', reviews: [{}, { exclude: true }] },
  { uid: '1.7', reviews: [{ hasProtocolSeries: true }, { hasProtocolSeries: false, comment: 'no protocol' }] },
  { uid: '1.8', reviews: [{ relevant: false }] },
  { uid: '1.9', reviews: [{ hasReconstruction: true }] },
  { uid: '1.10', reviews: [{ hasProtocolSeries: true }] },
  { uid: '1.11', reviews: [{}] },
];

/** A database shaped like django-dicom-review's (the columns the pipeline reads and writes, and a few more). */
export function createReviewDb(path: string, studies: readonly StudyRow[]): void {
  const db = new Database(path);
  db.exec(`
    CREATE TABLE staging_radiologystudy (
      id integer NOT NULL PRIMARY KEY AUTOINCREMENT, original_study_uid varchar(64) NOT NULL UNIQUE,
      study_uid varchar(64), exclude bool NOT NULL, image_published bool NOT NULL, processing_error bool NOT NULL,
      processing_error_date datetime, processing_error_msg varchar(255), created datetime);
    CREATE TABLE staging_radiologystudyreview (
      id integer NOT NULL PRIMARY KEY AUTOINCREMENT, study_id integer NOT NULL REFERENCES staging_radiologystudy (id),
      user_id integer NOT NULL, has_phi bool NOT NULL, relevant bool NOT NULL, has_reconstruction bool NOT NULL,
      has_protocol_series bool NOT NULL, exclude bool NOT NULL, comment text NOT NULL);`);
  const insertStudy = db.prepare('INSERT INTO staging_radiologystudy (original_study_uid, exclude, image_published, processing_error) VALUES (?, ?, ?, ?)');
  const insertReview = db.prepare(`INSERT INTO staging_radiologystudyreview
    (study_id, user_id, has_phi, relevant, has_reconstruction, has_protocol_series, exclude, comment) VALUES (?, 1, ?, ?, ?, ?, ?, ?)`);
  const b = (v: boolean | undefined): number => (v ? 1 : 0);
  for (const s of studies) {
    const id = insertStudy.run(s.uid, b(s.exclude), b(s.published), b(s.processingError)).lastInsertRowid;
    for (const r of s.reviews) {
      insertReview.run(id, b(r.hasPhi), r.relevant === false ? 0 : 1, b(r.hasReconstruction), b(r.hasProtocolSeries), b(r.exclude), r.comment ?? '');
    }
  }
  db.close();
}

/** The same, on PostgreSQL as Django creates it there (boolean columns, serial ids); returns nothing, the tables are in `database`. */
export function createPgReviewDb(psql: (database: string, sql: string) => string[], database: string, studies: readonly StudyRow[]): void {
  const b = (v: boolean | undefined): string => (v ? 'true' : 'false');
  const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;
  const statements = [`
    CREATE TABLE staging_radiologystudy (
      id serial PRIMARY KEY, original_study_uid varchar(64) NOT NULL UNIQUE, study_uid varchar(64), exclude boolean NOT NULL,
      image_published boolean NOT NULL, processing_error boolean NOT NULL, processing_error_date timestamptz, processing_error_msg varchar(255), created timestamptz);
    CREATE TABLE staging_radiologystudyreview (
      id serial PRIMARY KEY, study_id integer NOT NULL REFERENCES staging_radiologystudy (id), user_id integer NOT NULL,
      has_phi boolean NOT NULL, relevant boolean NOT NULL, has_reconstruction boolean NOT NULL, has_protocol_series boolean NOT NULL,
      exclude boolean NOT NULL, comment text NOT NULL);`];
  for (const s of studies) {
    statements.push(`INSERT INTO staging_radiologystudy (original_study_uid, exclude, image_published, processing_error) VALUES (${q(s.uid)}, ${b(s.exclude)}, ${b(s.published)}, ${b(s.processingError)});`);
    for (const r of s.reviews) {
      statements.push(`INSERT INTO staging_radiologystudyreview (study_id, user_id, has_phi, relevant, has_reconstruction, has_protocol_series, exclude, comment)
        SELECT id, 1, ${b(r.hasPhi)}, ${r.relevant === false ? 'false' : 'true'}, ${b(r.hasReconstruction)}, ${b(r.hasProtocolSeries)}, ${b(r.exclude)}, ${q(r.comment ?? '')}
        FROM staging_radiologystudy WHERE original_study_uid = ${q(s.uid)};`);
    }
  }
  psql(database, statements.join('\n'));
}
