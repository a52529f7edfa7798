/**
 * The identity store's schema on PostgreSQL: the same tables, constraints and legacy views as
 * identity.db (schema.ts), so re-identification queries such as
 * `select original from accession_no where cleaned = $1` work on either.
 */
import type { ClientBase } from 'pg';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema';

/** Serialises schema creation between instances starting at once (CREATE ... IF NOT EXISTS races otherwise). */
export const SCHEMA_LOCK = 0x44504944; // 'DPID'

/**
 * One batch's mappings in one statement (so one round trip and one transaction): each INSERT … ON
 * CONFLICT DO NOTHING is followed by a read of what is stored, in a new snapshot (READ COMMITTED),
 * so a mapping another instance committed meanwhile is the one returned. An original missing from
 * the answer met a collision on its pseudonym: the caller tries again with another.
 * Rows: ('u', original, '', cleaned) · ('p', original, issuer, cleaned, name, offset, name_check) · ('v', kind, original, cleaned).
 */
const MAP_BATCH_SQL = `
CREATE OR REPLACE FUNCTION dp_map_batch(
  uid_o TEXT[], uid_c TEXT[], role_o TEXT[], role_r TEXT[],
  pat_o TEXT[], pat_i TEXT[], pat_c TEXT[], pat_d INTEGER[], pat_n TEXT[],
  val_k TEXT[], val_o TEXT[], val_c TEXT[], link_s TEXT[], link_p TEXT[], at TEXT)
RETURNS TABLE(r_kind TEXT, r_k1 TEXT, r_k2 TEXT, r_cleaned TEXT, r_name TEXT, r_offset INTEGER, r_check TEXT)
LANGUAGE plpgsql AS $fn$
BEGIN
  IF cardinality(uid_o) > 0 THEN
    INSERT INTO uid_map(original, cleaned, created_at)
      SELECT t.o, t.c, at FROM unnest(uid_o, uid_c) AS t(o, c) ORDER BY t.o ON CONFLICT DO NOTHING;
    RETURN QUERY SELECT 'u'::TEXT, m.original, ''::TEXT, m.cleaned, NULL::TEXT, NULL::INTEGER, NULL::TEXT
      FROM uid_map m WHERE m.original = ANY(uid_o);
  END IF;
  IF cardinality(role_o) > 0 THEN
    INSERT INTO uid_role(original, role)
      SELECT t.o, t.r FROM unnest(role_o, role_r) AS t(o, r) WHERE EXISTS (SELECT 1 FROM uid_map m WHERE m.original = t.o)
      ORDER BY t.o, t.r ON CONFLICT DO NOTHING;
  END IF;
  IF cardinality(pat_o) > 0 THEN
    INSERT INTO patient_map(original, issuer, cleaned, cleaned_name, date_offset_days, created_at, name_check)
      SELECT t.o, t.i, t.c, t.c, t.d, at, t.n FROM unnest(pat_o, pat_i, pat_c, pat_d, pat_n) AS t(o, i, c, d, n)
      ORDER BY t.o, t.i ON CONFLICT DO NOTHING;
    UPDATE patient_map p SET name_check = t.n FROM unnest(pat_o, pat_i, pat_n) AS t(o, i, n)
      WHERE p.original = t.o AND p.issuer = t.i AND p.name_check IS NULL AND t.n IS NOT NULL;
    RETURN QUERY SELECT 'p'::TEXT, p.original, p.issuer, p.cleaned, p.cleaned_name, p.date_offset_days, p.name_check
      FROM patient_map p JOIN unnest(pat_o, pat_i) AS t(o, i) ON p.original = t.o AND p.issuer = t.i;
  END IF;
  IF cardinality(val_o) > 0 THEN
    INSERT INTO value_map(kind, original, cleaned, created_at)
      SELECT t.k, t.o, t.c, at FROM unnest(val_k, val_o, val_c) AS t(k, o, c) ORDER BY t.k, t.o ON CONFLICT DO NOTHING;
    RETURN QUERY SELECT 'v'::TEXT, v.kind, v.original, v.cleaned, NULL::TEXT, NULL::INTEGER, NULL::TEXT
      FROM value_map v JOIN unnest(val_k, val_o) AS t(k, o) ON v.kind = t.k AND v.original = t.o;
  END IF;
  IF cardinality(link_s) > 0 THEN
    INSERT INTO study_patient(study_cleaned, patient_cleaned)
      SELECT t.s, t.p FROM unnest(link_s, link_p) AS t(s, p) ORDER BY t.s ON CONFLICT DO NOTHING;
  END IF;
END
$fn$;`;

/**
 * identity.db's own tables and views (schema.ts), in PostgreSQL's dialect: one definition, so the two
 * backends cannot drift apart.
 */
export const PG_SCHEMA_SQL = SCHEMA_SQL
  .replace(/\) WITHOUT ROWID;/g, ');')
  .replace(/CREATE VIEW IF NOT EXISTS/g, 'CREATE OR REPLACE VIEW') + `
INSERT INTO meta(key, value) VALUES ('schema_version', '${SCHEMA_VERSION}') ON CONFLICT DO NOTHING;
${MAP_BATCH_SQL}
`;

/** Creates the schema unless present, inside the caller's transaction, one instance at a time. */
export async function ensurePgSchema(c: ClientBase): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
  const exists = await c.query<{ ok: boolean }>("SELECT to_regclass('study_patient') IS NOT NULL AND to_regproc('dp_map_batch') IS NOT NULL AS ok");
  if (!exists.rows[0].ok) await c.query(PG_SCHEMA_SQL);
}
