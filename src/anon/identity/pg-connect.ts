import { Pool, type PoolConfig } from 'pg';
import { PipelineError, type ErrorCode } from '../../errors';

/** Where a PostgreSQL URL points, for messages: never the password. */
export interface PgTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** host:port, database "name" */
  readonly label: string;
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Parses a postgres:// or postgresql:// URL. A URL that does not parse is reported without being
 * echoed: it may hold a password.
 */
export function pgTarget(url: string, what: string): PgTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PipelineError('E_CONFIG', `${what} is not a valid postgres:// URL (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)`);
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol) || !parsed.hostname) {
    throw new PipelineError('E_CONFIG', `${what} is not a valid postgres:// URL (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port ? Number(parsed.port) : Number(process.env.PGPORT) || 5432;
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || process.env.USER || 'postgres';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || process.env.PGDATABASE || user;
  return { host, port, database, user, label: `${host}:${port}, database "${database}"` };
}

/**
 * One line for a failed connection or login: host, port, database, user and what to do. The server's
 * own text is used only for codes whose text carries no credential.
 */
export function connectError(target: PgTarget, what: string, err: unknown, code: ErrorCode = 'E_IDENTITY'): PipelineError {
  const e = err as { code?: string; message?: string };
  const where = `${what}: PostgreSQL at ${target.label} as user "${target.user}"`;
  let reason: string;
  switch (e.code) {
    case 'ECONNREFUSED': reason = 'connection refused: is the server running and listening on that host and port?'; break;
    case 'ENOTFOUND': case 'EAI_AGAIN': reason = 'host not found: check the host name in the URL'; break;
    case 'ETIMEDOUT': case 'EHOSTUNREACH': case 'ENETUNREACH': reason = 'host unreachable: check the host, port and firewall'; break;
    case '28P01': reason = 'password refused: set the right password in the URL, PGPASSWORD or the password file (PGPASSFILE, ~/.pgpass)'; break;
    case '28000': reason = 'login refused (no pg_hba.conf entry or no such role): ask the database administrator'; break;
    case '3D000': reason = 'the database does not exist: create it (createdb) or fix the URL'; break;
    case '42501': reason = 'permission denied: the user needs CREATE on the database (or its tables created by an administrator)'; break;
    default:
      if (/timeout/i.test(e.message ?? '')) reason = `no answer within ${CONNECT_TIMEOUT_MS / 1000} s: check the host, port and firewall`;
      else if (/password must be a string|no password/i.test(e.message ?? '')) reason = 'the server wants a password: give it in the URL, PGPASSWORD or the password file (PGPASSFILE, ~/.pgpass)';
      else reason = (e.message ?? String(err)).split('\n')[0];
  }
  return new PipelineError(code, `${where}: ${reason}`, { cause: err });
}

/**
 * A pool on the URL (node-postgres takes the password from the URL, PGPASSWORD or the password file).
 * Connects once before returning, so a bad URL, a refused password or an unreachable server is one
 * clear line before anything moves.
 */
export async function openPool(url: string, what: string, max: number, code: ErrorCode = 'E_IDENTITY'): Promise<{ pool: Pool; target: PgTarget }> {
  const target = pgTarget(url, what);
  const config: PoolConfig = { connectionString: url, max, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, idleTimeoutMillis: 30_000, application_name: 'dicom-pipeline' };
  const pool = new Pool(config);
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw connectError(target, what, err, code);
  }
  return { pool, target };
}
