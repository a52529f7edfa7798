import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { keyFingerprint } from '../../src/anon/identity/fingerprint';
import { loadOrCreateKey } from '../../src/anon/identity/key-file';
import { openIdentityStore } from '../../src/anon/identity/open-store';
import { Pseudonyms } from '../../src/anon/identity/pseudonyms';
import type { IdentityStore } from '../../src/anon/identity/store';
import { tempDir } from '../helpers/anon-env';
import { runCli } from '../helpers/cli';
import { deadPort } from '../helpers/ports';
import { Postgres } from '../helpers/postgres';

/** The identity-store suite, run against both backends with the same expectations. */
interface Backend {
  readonly name: string;
  /** A fresh, empty store target (file or URL). */
  fresh(): string;
  /** Rows of a query on the store's tables or views ($1-style parameters). */
  query(target: string, sql: string, params?: unknown[]): Promise<unknown[][]>;
}

const work = tempDir('dp-idstore-');
let pg: Postgres;
let databases = 0;
let files = 0;

const backends: Backend[] = [
  {
    name: 'SQLite',
    fresh: () => join(work.dir, `id-${files++}.db`),
    async query(target, sql, params = []) {
      const db = new Database(target, { readonly: true });
      try {
        return db.prepare(sql.replace(/\$\d+/g, '?')).raw().all(...params) as unknown[][];
      } finally {
        db.close();
      }
    },
  },
  {
    name: 'PostgreSQL',
    fresh: () => pg.createDb(`id${databases++}`),
    async query(target, sql, params = []) {
      const client = new Client({ connectionString: target });
      await client.connect();
      try {
        return (await client.query({ text: sql, values: params, rowMode: 'array' })).rows;
      } finally {
        await client.end();
      }
    },
  },
];

const keyFile = join(work.dir, 'key');
const options = { keyFile, dicomRoot: '1.2.826.0.1.3680043.10.99', dateShiftDays: { min: 1, max: 30 } };

before(async () => {
  pg = await Postgres.start({ settings: { fsync: 'off' } });
});
after(() => {
  pg?.stop();
  work.cleanup();
});

async function withStore<T>(target: string, fn: (s: IdentityStore) => Promise<T>, opts = options): Promise<T> {
  const store = await openIdentityStore(target, opts);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

for (const backend of backends) {
  describe(`identity store on ${backend.name}`, () => {
    test('write-once mappings; one pseudonym per patient ID + issuer; the documented re-identification queries answer', async () => {
      const target = backend.fresh();
      const first = await withStore(target, (s) => s.batch((id) => {
        const study = id.uid('1.2.3.100');
        id.recordRole('1.2.3.100', 'studyuid');
        const p1 = id.patient('MRN1', '', 'Doe');
        id.linkStudy(study, p1.id);
        return { study, p1, p2: id.patient('MRN1', 'OTHER HOSPITAL'), acc: id.value('accession_no', 'ACC9'), sid: id.value('study_id', '42') };
      }));
      assert.match(first.study, /^1\.2\.826\.0\.1\.3680043\.10\.99\.[1-9]\d+$/);
      assert.notEqual(first.p1.id, first.p2.id);
      assert.ok(first.p1.dateOffsetDays <= -1 && first.p1.dateOffsetDays >= -30);
      const again = await withStore(target, (s) => s.batch((id) => ({
        study: id.uid('1.2.3.100'), p1: id.patient('MRN1', '', 'DOE'), other: id.patient('MRN1', '', 'Roe'), acc: id.value('accession_no', 'ACC9'),
      })));
      assert.equal(again.study, first.study);
      assert.deepEqual({ ...again.p1 }, { ...first.p1 });
      assert.equal(again.other.id, first.p1.id);
      assert.equal(again.other.sameName, false, 'another family name with the same ID is flagged');
      assert.equal(again.acc, first.acc);
      const one = async (sql: string, value: unknown): Promise<unknown> => (await backend.query(target, sql, [value]))[0]?.[0];
      assert.equal(await one('select original from accession_no where cleaned = $1', first.acc), 'ACC9');
      assert.equal(await one('select original from study_id where cleaned = $1', first.sid), '42');
      assert.equal(await one('select original from patient where cleaned = $1', first.p1.id), 'MRN1');
      assert.equal(await one('select date_offset_days from patient where cleaned = $1', first.p1.id), first.p1.dateOffsetDays);
      assert.equal(await one('select original from studyuid where cleaned = $1', first.study), '1.2.3.100');
      assert.equal(await one('select patient_cleaned from study_patient where study_cleaned = $1', first.study), first.p1.id);
      assert.equal(Number((await backend.query(target, 'select count(*) from seriesuid'))[0][0]), 0);
    });

    test('the same original gets the same pseudonym from four stores writing at once', async () => {
      const target = backend.fresh();
      await withStore(target, async () => undefined); // schema and fingerprint first, as a run's main thread does
      const uids = Array.from({ length: 300 }, (_, i) => `1.2.840.99.${i}`);
      const patients = Array.from({ length: 20 }, (_, i) => `MRN${i}`);
      const results = await Promise.all([0, 1, 2, 3].map((w) => withStore(target, async (s) => {
        const order = w % 2 ? [...uids].reverse() : uids;
        const out = new Map<string, string>();
        for (let i = 0; i < order.length; i += 16) {
          const batch = order.slice(i, i + 16);
          await s.batch((id) => {
            for (const u of batch) {
              out.set(u, id.uid(u));
              id.recordRole(u, 'sopinstanceuid');
              const p = patients[Number(u.split('.').pop()) % patients.length];
              out.set(p, id.patient(p, '').id);
              out.set(`A${p}`, id.value('accession_no', `A${p}`));
            }
          });
        }
        return out;
      })));
      for (const r of results.slice(1)) assert.deepEqual([...r].sort(), [...results[0]].sort());
      const count = async (sql: string): Promise<number> => Number((await backend.query(target, sql))[0][0]);
      assert.equal(await count('select count(*) from uid_map'), 300);
      assert.equal(await count('select count(*) from sopinstanceuid'), 300);
      assert.equal(await count('select count(*) from patient_map'), 20);
      assert.equal(await count('select count(distinct cleaned) from patient_map'), 20);
      assert.equal(await count('select count(*) from accession_no'), 20);
    });

    test('batches in flight together on one store (as a worker keeps two) get the answers they would get alone', async () => {
      const target = backend.fresh();
      const answers = await withStore(target, (s) => Promise.all(Array.from({ length: 12 }, (_, b) => s.batch((id) => {
        const out: string[] = [];
        for (let i = 0; i < 8; i++) {
          const study = `1.2.840.77.${b % 3}`;
          const p = id.patient(`MRN-${b % 3}`, '', b % 2 ? 'Doe' : '');
          const cleanedStudy = id.uid(study);
          id.recordRole(study, 'studyuid');
          id.linkStudy(cleanedStudy, p.id);
          out.push(`${b}.${i}=${id.uid(`${study}.${b}.${i}`)}`, `${study}=${cleanedStudy}`, `P${b % 3}=${p.id}`, `A${b % 3}=${id.value('accession_no', `ACC-${b % 3}`)}`);
        }
        return out;
      }))));
      const seen = new Map<string, string>();
      for (const line of answers.flat()) {
        const [key, value] = line.split('=');
        assert.ok(!value.startsWith('2.25.1') && value !== 'X' && value !== 'P00000000000', `no placeholder kept: ${line}`);
        assert.equal(seen.get(key) ?? value, value, `one answer for ${key}`);
        seen.set(key, value);
      }
      const again = await withStore(target, (s) => s.batch((id) => [0, 1, 2].map((b) => `${id.uid(`1.2.840.77.${b}`)} ${id.patient(`MRN-${b}`, '').id}`)));
      assert.deepEqual(again, [0, 1, 2].map((b) => `${seen.get(`1.2.840.77.${b}`)} ${seen.get(`P${b}`)}`));
      assert.equal(Number((await backend.query(target, 'select count(*) from uid_map'))[0][0]), 3 + 12 * 8);
      assert.equal(Number((await backend.query(target, 'select count(*) from study_patient'))[0][0]), 3);
      assert.equal(Number((await backend.query(target, 'select count(*) from patient_map where name_check is not null'))[0][0]), 3);
    });

    test('the key fingerprint is recorded, and a store refuses another key with one clear line', async () => {
      const target = backend.fresh();
      await withStore(target, (s) => s.batch((id) => id.uid('1.2.3')));
      const stored = (await backend.query(target, "select value from meta where key = 'key_fingerprint'"))[0][0];
      assert.equal(stored, keyFingerprint(loadOrCreateKey(keyFile).key));
      assert.ok(!readFileSync(keyFile, 'utf8').includes(String(stored)));
      await assert.rejects(withStore(target, async () => undefined, { ...options, keyFile: join(work.dir, `other-key-${backend.name}`) }),
        (err: Error & { code?: string }) => err.code === 'E_IDENTITY' && /was made with/.test(err.message) && !err.message.includes('\n'));
    });
  });
}

describe('identity store on PostgreSQL only', () => {
  test('a derived UID that collides with a stored one is derived again, never shared', async () => {
    const target = pg.createDb('collide');
    const derive = new Pseudonyms(loadOrCreateKey(keyFile).key, options);
    await withStore(target, async () => undefined);
    const client = new Client({ connectionString: target });
    await client.connect();
    await client.query("insert into uid_map(original, cleaned, created_at) values ('9.9.9', $1, 'x')", [derive.uid('1.2.3.4', 0)]);
    await client.end();
    const cleaned = await withStore(target, (s) => s.batch((id) => id.uid('1.2.3.4')));
    assert.equal(cleaned, derive.uid('1.2.3.4', 1));
  });

  test('--print-config never shows the password of a database URL; a URL that does not parse is a config error that does not echo it', () => {
    const secret = 'S3cretInUrl';
    const file = join(work.dir, 'print.json');
    writeFileSync(file, JSON.stringify({ identityDb: `postgres://dp:${secret}@db.example:5433/identity`, review: { postgres: `postgres://dp:${secret}@db.example/review` } }));
    const printed = runCli(['run', '--print-config', '-c', file]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.ok(!printed.stdout.includes(secret));
    assert.match(printed.stdout, /postgres:\/\/dp:\*\*\*@db\.example:5433\/identity/);
    writeFileSync(file, JSON.stringify({ identityDb: `postgres://dp:${secret}@[db/identity`, coordination: { leaseS: 1 } }));
    const bad = runCli(['run', '--print-config', '-c', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /identityDb: must be a file name or a postgres:\/\/USER/);
    assert.match(bad.stderr, /coordination\.leaseS/);
    assert.ok(!bad.stderr.includes(secret));
  });

  test('a refused password, an unreachable server, a missing database and a bad URL: one line naming host, port and database, never the password', async () => {
    const wrong = 'Wr0ngSecret';
    const cases: Array<[string, RegExp]> = [
      [pg.url('postgres', wrong), /127\.0\.0\.1:\d+, database "postgres".*password refused/],
      [`postgres://postgres:${wrong}@127.0.0.1:${await deadPort()}/research`, /127\.0\.0\.1:\d+, database "research".*connection refused/],
      [pg.url('nosuchdb').replace(pg.password, wrong), /database "nosuchdb"/],
      [`postgres://postgres:${wrong}@[bad/x`, /not a valid postgres:\/\/ URL/],
    ];
    for (const [url, expected] of cases) {
      await assert.rejects(openIdentityStore(url, options), (err: Error & { code?: string }) => {
        assert.match(err.message, expected);
        assert.ok(!err.message.includes(wrong), `no password in: ${err.message}`);
        assert.ok(!err.message.includes('\n'));
        return true;
      });
    }
    // The password may come from PGPASSWORD instead of the URL.
    process.env.PGPASSWORD = pg.password;
    try {
      await withStore(`postgres://postgres@127.0.0.1:${pg.port}/postgres`, async () => undefined);
    } finally {
      delete process.env.PGPASSWORD;
    }
  });
});
