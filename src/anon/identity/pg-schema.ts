/**
 * The identity store's schema on PostgreSQL: the same tables, constraints and legacy views as
 * identity.db (schema.ts), so re-identification queries such as
 * `select original from accession_no where cleaned = $1` work on either.
 */
import type { ClientBase } from 'pg';
import { SCHEMA_VERSION } from './schema';

/** Serialises schema creation between instances starting at once (CREATE ... IF NOT EXISTS races otherwise). */
export const SCHEMA_LOCK = 0x44504944; // 'DPID'

export const PG_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS uid_map (
  original TEXT PRIMARY KEY,
  cleaned TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS uid_role (
  original TEXT NOT NULL REFERENCES uid_map(original),
  role TEXT NOT NULL,
  PRIMARY KEY (original, role)
);
CREATE TABLE IF NOT EXISTS patient_map (
  original TEXT NOT NULL,
  issuer TEXT NOT NULL DEFAULT '',
  cleaned TEXT NOT NULL UNIQUE,
  cleaned_name TEXT NOT NULL,
  date_offset_days INTEGER NOT NULL CHECK (date_offset_days <> 0),
  created_at TEXT NOT NULL,
  name_check TEXT,
  PRIMARY KEY (original, issuer)
);
CREATE TABLE IF NOT EXISTS value_map (
  kind TEXT NOT NULL,
  original TEXT NOT NULL,
  cleaned TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (kind, original),
  UNIQUE (kind, cleaned)
);
CREATE TABLE IF NOT EXISTS study_patient (
  study_cleaned TEXT PRIMARY KEY,
  patient_cleaned TEXT NOT NULL
);
CREATE OR REPLACE VIEW patient AS
  SELECT original, issuer, cleaned, cleaned_name, date_offset_days FROM patient_map;
CREATE OR REPLACE VIEW accession_no AS
  SELECT original, cleaned FROM value_map WHERE kind = 'accession_no';
CREATE OR REPLACE VIEW study_id AS
  SELECT original, cleaned FROM value_map WHERE kind = 'study_id';
CREATE OR REPLACE VIEW studyuid AS
  SELECT m.original, m.cleaned FROM uid_map m JOIN uid_role r ON r.original = m.original AND r.role = 'studyuid';
CREATE OR REPLACE VIEW seriesuid AS
  SELECT m.original, m.cleaned FROM uid_map m JOIN uid_role r ON r.original = m.original AND r.role = 'seriesuid';
CREATE OR REPLACE VIEW sopinstanceuid AS
  SELECT m.original, m.cleaned FROM uid_map m JOIN uid_role r ON r.original = m.original AND r.role = 'sopinstanceuid';
INSERT INTO meta(key, value) VALUES ('schema_version', '${SCHEMA_VERSION}') ON CONFLICT DO NOTHING;
`;

/** Creates the schema unless present, inside the caller's transaction, one instance at a time. */
export async function ensurePgSchema(c: ClientBase): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
  const exists = await c.query<{ ok: boolean }>("SELECT to_regclass('study_patient') IS NOT NULL AS ok");
  if (!exists.rows[0].ok) await c.query(PG_SCHEMA_SQL);
}
