/**
 * identity.db schema. Mappings are write-once: an original, once mapped, keeps its cleaned value for
 * ever. The views keep the re-identification queries of the tool this replaces working, e.g.
 * `select original from accession_no where cleaned = ?`.
 */
export const SCHEMA_VERSION = 1;

/**
 * Columns added after a database may have been created; each is added when missing.
 * name_check: keyed hash of the family name first seen with a Patient ID (never the name itself).
 */
export const MIGRATIONS: ReadonlyArray<{ table: string; column: string; definition: string }> = [
  { table: 'patient_map', column: 'name_check', definition: 'TEXT' },
];

export const SCHEMA_SQL = `
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
) WITHOUT ROWID;
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
CREATE VIEW IF NOT EXISTS patient AS
  SELECT original, issuer, cleaned, cleaned_name, date_offset_days FROM patient_map;
CREATE VIEW IF NOT EXISTS accession_no AS
  SELECT original, cleaned FROM value_map WHERE kind = 'accession_no';
CREATE VIEW IF NOT EXISTS study_id AS
  SELECT original, cleaned FROM value_map WHERE kind = 'study_id';
CREATE VIEW IF NOT EXISTS studyuid AS
  SELECT m.original, m.cleaned FROM uid_map m JOIN uid_role r ON r.original = m.original AND r.role = 'studyuid';
CREATE VIEW IF NOT EXISTS seriesuid AS
  SELECT m.original, m.cleaned FROM uid_map m JOIN uid_role r ON r.original = m.original AND r.role = 'seriesuid';
CREATE VIEW IF NOT EXISTS sopinstanceuid AS
  SELECT m.original, m.cleaned FROM uid_map m JOIN uid_role r ON r.original = m.original AND r.role = 'sopinstanceuid';
`;
