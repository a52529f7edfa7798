import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { PoolClient } from 'pg';
import { PipelineError } from '../../errors';
import { createPrivately, ensureSqliteSchema } from './identity-map';
import { openPool } from './pg-connect';
import { ensurePgSchema } from './pg-schema';
import { isPostgresUrl, redactUrl } from './store';

export type Row = unknown[];

/** One mapping table: its columns (key columns first) and the columns that make a mapping what it is. */
export interface TableSpec {
  readonly name: string;
  readonly columns: readonly string[];
  readonly key: number;
  /** Indexes of the columns compared between stores (created_at and name_check may differ). */
  readonly compared: readonly number[];
}

/** In copy order: uid_role references uid_map. */
export const TABLES: readonly TableSpec[] = [
  { name: 'uid_map', columns: ['original', 'cleaned', 'created_at'], key: 1, compared: [1] },
  { name: 'uid_role', columns: ['original', 'role'], key: 2, compared: [] },
  { name: 'patient_map', columns: ['original', 'issuer', 'cleaned', 'cleaned_name', 'date_offset_days', 'created_at', 'name_check'], key: 2, compared: [2, 3, 4] },
  { name: 'value_map', columns: ['kind', 'original', 'cleaned', 'created_at'], key: 2, compared: [2] },
  { name: 'study_patient', columns: ['study_cleaned', 'patient_cleaned'], key: 1, compared: [1] },
];

/**
 * The identity store's tables, row by row, on either engine: what migration (and practice copies)
 * need. The SQL is the same for both (row values, VALUES lists, ON CONFLICT DO NOTHING); only the
 * placeholders differ.
 */
export interface RawStore {
  readonly label: string;
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): Promise<void>;
}

/** Opens a store's tables; `create` makes the schema where missing (a migration target). */
export async function openRawStore(target: string, create: boolean): Promise<RawStore> {
  if (isPostgresUrl(target)) {
    const { pool, target: where } = await openPool(target, create ? 'migration target' : 'migration source', 1);
    const client: PoolClient = await pool.connect();
    const numbered = (sql: string): string => {
      let n = 0;
      return sql.replace(/\?/g, () => `$${++n}`);
    };
    if (create) {
      await client.query('BEGIN');
      await ensurePgSchema(client);
      await client.query('COMMIT');
    }
    return {
      label: `PostgreSQL ${where.label} (${redactUrl(target)})`,
      all: async (sql, params = []) => (await client.query({ text: numbered(sql), values: [...params], rowMode: 'array' })).rows as Row[],
      run: async (sql, params = []) => (await client.query({ text: numbered(sql), values: [...params] })).rowCount ?? 0,
      begin: async () => void (await client.query('BEGIN')),
      commit: async () => void (await client.query('COMMIT')),
      rollback: async () => void (await client.query('ROLLBACK')),
      close: async () => {
        client.release();
        await pool.end();
      },
    };
  }
  if (!create && !existsSync(target)) throw new PipelineError('E_USAGE', `identity database ${target} not found`);
  if (create) createPrivately(target);
  const db = new Database(target, { readonly: !create, fileMustExist: true, timeout: 30_000 });
  if (create) ensureSqliteSchema(db);
  return {
    label: target,
    all: async (sql, params = []) => db.prepare(sql).raw().all(...params) as Row[],
    run: async (sql, params = []) => db.prepare(sql).run(...params).changes,
    begin: async () => void db.exec('BEGIN IMMEDIATE'),
    commit: async () => void db.exec('COMMIT'),
    rollback: async () => void db.exec('ROLLBACK'),
    close: async () => void db.close(),
  };
}

/** Rows after `after` (by key), in key order: memory stays bounded whatever the store's size. */
export async function page(store: RawStore, t: TableSpec, after: Row | undefined, limit: number): Promise<Row[]> {
  const keys = t.columns.slice(0, t.key);
  const where = after ? `WHERE (${keys.join(', ')}) > (${keys.map(() => '?').join(', ')})` : '';
  return store.all(`SELECT ${t.columns.join(', ')} FROM ${t.name} ${where} ORDER BY ${keys.join(', ')} LIMIT ${limit}`, after ? after.slice(0, t.key) : []);
}

export async function insertRows(store: RawStore, t: TableSpec, rows: readonly Row[]): Promise<number> {
  if (rows.length === 0) return 0;
  const tuple = `(${t.columns.map(() => '?').join(', ')})`;
  return store.run(`INSERT INTO ${t.name} (${t.columns.join(', ')}) VALUES ${rows.map(() => tuple).join(', ')} ON CONFLICT DO NOTHING`, rows.flat());
}

/** The target's rows with the same keys as `rows`. */
export async function rowsByKey(store: RawStore, t: TableSpec, rows: readonly Row[]): Promise<Row[]> {
  if (rows.length === 0) return [];
  const keys = t.columns.slice(0, t.key);
  const tuple = `(${keys.map(() => '?').join(', ')})`;
  return store.all(`SELECT ${t.columns.join(', ')} FROM ${t.name} WHERE (${keys.join(', ')}) IN (VALUES ${rows.map(() => tuple).join(', ')})`,
    rows.flatMap((r) => r.slice(0, t.key)));
}

export async function metaValue(store: RawStore, key: string): Promise<string | undefined> {
  const rows = await store.all('SELECT value FROM meta WHERE key = ?', [key]);
  return rows[0]?.[0] as string | undefined;
}
