/**
 * A real PostgreSQL (Debian's postgresql 15) for integration tests and benchmarks: its own cluster in
 * a temp directory owned by the `postgres` user (PostgreSQL refuses to run as root), a free port,
 * loopback only, password authentication (scram) so wrong passwords are really refused. Always
 * stop it (test `after` hook); a process exit handler stops it otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from './ports';

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PostgresOptions {
  /** Extra server settings (`-c name=value`), e.g. fsync: 'off' for tests that never crash the server. */
  readonly settings?: Readonly<Record<string, string>>;
}

const live = new Set<Postgres>();
let hooked = false;

function asPostgres(dir: string, command: string, args: readonly string[]): string {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, command), ...args]] : [join(PG_BIN, command), [...args]];
  return execFileSync(cmd, argv, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class Postgres {
  private stopped = false;

  private constructor(readonly dir: string, readonly port: number, readonly password: string) {}

  static async start(options: PostgresOptions = {}): Promise<Postgres> {
    const dir = mkdtempSync(join(tmpdir(), 'pg-test-'));
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (isRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    chmodSync(dir, 0o700);
    const password = randomBytes(12).toString('hex');
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, password + '\n', { mode: 0o600 });
    if (isRoot) chownSync(pwFile, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), 0);
    asPostgres(dir, 'initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--no-sync', '--no-instructions']);
    const port = await freePort();
    const settings = { listen_addresses: '127.0.0.1', max_connections: '100', ...options.settings };
    const serverOptions = [`-p ${port}`, `-k ${dir}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
    const pg = new Postgres(dir, port, password);
    register(pg);
    asPostgres(dir, 'pg_ctl', ['start', '-w', '-t', '60', '-D', join(dir, 'data'), '-l', join(dir, 'server.log'), '-o', serverOptions]);
    return pg;
  }

  /** postgres://postgres:PASSWORD@127.0.0.1:PORT/NAME */
  url(database = 'postgres', password = this.password): string {
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${this.port}/${database}`;
  }

  /** Creates an empty database and returns its URL. */
  createDb(name: string): string {
    const env = { ...process.env, PGPASSWORD: this.password };
    const r = spawnSync(join(PG_BIN, 'createdb'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', name], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`createdb ${name} failed: ${r.stderr}`);
    return this.url(name);
  }

  /** Runs SQL with psql (tests' own checks and fixtures); returns unaligned, tab-separated rows. */
  psql(database: string, sql: string): string[] {
    const env = { ...process.env, PGPASSWORD: this.password };
    const r = spawnSync(join(PG_BIN, 'psql'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', database, '-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
    return r.stdout.split('\n').filter((l) => l !== '');
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    try {
      asPostgres(this.dir, 'pg_ctl', ['stop', '-m', 'fast', '-w', '-D', join(this.dir, 'data')]);
    } catch {
      /* already down */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function register(pg: Postgres): void {
  live.add(pg);
  if (hooked) return;
  hooked = true;
  // pg_ctl daemonizes the server: it is not our child, so stop it explicitly however the test ends.
  const stopAll = (): void => {
    for (const p of [...live]) p.stop();
  };
  process.once('exit', stopAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopAll();
      process.exit(130);
    });
  }
}
