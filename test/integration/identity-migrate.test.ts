import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IdentityMap } from '../../src/anon/identity/identity-map';
import { openIdentityStore } from '../../src/anon/identity/open-store';
import { tempDir } from '../helpers/anon-env';
import { runCli } from '../helpers/cli';
import { Postgres } from '../helpers/postgres';

const work = tempDir('dp-migrate-');
const keyFile = join(work.dir, 'key');
let pg: Postgres;

before(async () => {
  pg = await Postgres.start({ settings: { fsync: 'off' } });
  writeFileSync(join(work.dir, 'dicom-pipeline.json'), JSON.stringify({ keyFile }));
});
after(() => {
  pg?.stop();
  work.cleanup();
});

/** A SQLite store with 1,200 instances of 3 studies of 2 patients (more rows than one copy page). */
function sqliteStore(path: string): { studies: string[]; patients: string[]; accessions: string[] } {
  const map = IdentityMap.open(path, { keyFile });
  const out = map.transaction(() => {
    const studies: string[] = [];
    const patients: string[] = [];
    const accessions: string[] = [];
    for (let s = 0; s < 3; s++) {
      const study = map.uid(`1.2.3.${s}`);
      map.recordRole(`1.2.3.${s}`, 'studyuid');
      const p = map.patient(`MRN${s % 2}`, '', 'Doe');
      map.linkStudy(study, p.id);
      studies.push(study);
      patients.push(p.id);
      accessions.push(map.value('accession_no', `ACC${s}`));
      for (let i = 0; i < 400; i++) {
        map.uid(`1.2.3.${s}.1.${i}`);
        map.recordRole(`1.2.3.${s}.1.${i}`, 'sopinstanceuid');
      }
    }
    return { studies, patients, accessions };
  });
  void map.close();
  return out;
}

const cli = (...args: string[]) => runCli(['identity', 'migrate', ...args], {}, work.dir);

test('identity migrate copies every mapping into PostgreSQL, checks it, and a second run copies nothing', async () => {
  const from = join(work.dir, 'identity.db');
  const made = sqliteStore(from);
  const to = pg.createDb('migrated');
  const first = cli('--from', 'identity.db', '--to', to);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /uid_map\s+1203 rows: 1203 copied, 0 already there/);
  assert.match(first.stdout, /patient_map\s+2 rows: 2 copied/);
  assert.ok(!first.stdout.includes(pg.password), 'the password is never printed');
  const again = cli('--from', 'identity.db', '--to', to);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /uid_map\s+1203 rows: 0 copied, 1203 already there/);
  // The PostgreSQL store now answers as identity.db did, with the same key.
  const store = await openIdentityStore(to, { keyFile });
  const answers = await store.batch((id) => ({
    studies: [0, 1, 2].map((s) => id.uid(`1.2.3.${s}`)),
    patients: [0, 1, 0].map((s) => id.patient(`MRN${s}`, '', 'Doe').id),
    accessions: [0, 1, 2].map((s) => id.value('accession_no', `ACC${s}`)),
  }));
  await store.close();
  assert.deepEqual(answers, made);
  assert.deepEqual(pg.psql('migrated', `select original from studyuid where cleaned = '${made.studies[1]}'`), ['1.2.3.1']);
  assert.deepEqual(pg.psql('migrated', 'select count(*) from sopinstanceuid'), ['1200']);
});

test('conflicting mappings in the target are listed by pseudonym and nothing is copied; another key is refused', async () => {
  const from = join(work.dir, 'conflict.db');
  sqliteStore(from);
  const to = pg.createDb('conflicting');
  // The target already maps one of the same accession numbers to another pseudonym.
  const other = join(work.dir, 'other.db');
  const map = IdentityMap.open(other, { keyFile });
  map.transaction(() => map.value('accession_no', 'ACC1'));
  void map.close();
  assert.equal(cli('--from', other, '--to', to).code, 0);
  const refused = cli('--from', from, '--to', to);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /already holds 1 mapping\(s\) that differ .*nothing was copied.*value_map: cleaned A\w+ in the source is cleaned A\w+ in the target/);
  assert.ok(!refused.stderr.includes('ACC1'), 'originals are never printed');
  assert.deepEqual(pg.psql('conflicting', 'select count(*) from uid_map'), ['0']);
  // A store made with another key cannot be merged.
  const foreign = join(work.dir, 'foreign.db');
  void IdentityMap.open(foreign, { keyFile: join(work.dir, 'foreign-key') }).close();
  const wrongKey = cli('--from', foreign, '--to', to);
  assert.equal(wrongKey.code, 1);
  assert.match(wrongKey.stderr, /was made with another key/);
  const db = new Database(from, { readonly: true });
  assert.equal(db.prepare('select count(*) from uid_map').pluck().get(), 1203, 'the source is never changed');
  db.close();
});
