import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { IdentityMap, validateDicomRoot } from '../../src/anon/identity/identity-map';
import { tempDir } from '../helpers/anon-env';

test('the same original always gives the same UID; different originals differ', () => {
  const { dir, cleanup } = tempDir();
  try {
    const map = IdentityMap.open(join(dir, 'id.db'), { keyFile: join(dir, 'key'), dicomRoot: '1.2.826.0.1.3680043.10.99' });
    const a = map.transaction(() => map.uid('1.2.3.4'));
    assert.equal(map.transaction(() => map.uid('1.2.3.4')), a);
    assert.notEqual(map.transaction(() => map.uid('1.2.3.5')), a);
    assert.match(a, /^1\.2\.826\.0\.1\.3680043\.10\.99\.[1-9]\d+$/);
    assert.equal(a.length, 64);
    map.close();
  } finally {
    cleanup();
  }
});

test('identity.db and the key file are created 0600, apart from each other', () => {
  const { dir, cleanup } = tempDir();
  try {
    IdentityMap.open(join(dir, 'id.db'), { keyFile: join(dir, 'keys', 'identity.key') }).close();
    assert.equal(statSync(join(dir, 'id.db')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'keys', 'identity.key')).mode & 0o777, 0o600);
  } finally {
    cleanup();
  }
});

test('another key is refused (fingerprint); after the documented recovery from a lost key, stored mappings never change', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 'id.db');
    const key = join(dir, 'key');
    let map = IdentityMap.open(db, { keyFile: key });
    const [uid, patient, acc] = map.transaction(() => [map.uid('9.8.7'), map.patient('MRN1', ''), map.value('accession_no', 'ACC1')] as const);
    void map.close();
    const raw = new Database(db, { readonly: true });
    const fingerprint = raw.prepare("select value from meta where key = 'key_fingerprint'").pluck().get() as string;
    raw.close();
    assert.match(fingerprint, /^[0-9a-f]{64}$/);
    assert.ok(!readFileSync(key, 'utf8').includes(fingerprint), 'the fingerprint is not the key');
    unlinkSync(key);
    assert.throws(() => IdentityMap.open(db, { keyFile: key }), (err: Error & { code?: string }) =>
      err.code === 'E_IDENTITY' && /is not the key identity store .*id\.db was made with/.test(err.message) && !err.message.includes('\n'));
    // Recovery from a lost key (README): forget the fingerprint; the next key is recorded.
    const rw = new Database(db);
    rw.prepare("delete from meta where key = 'key_fingerprint'").run();
    rw.close();
    map = IdentityMap.open(db, { keyFile: key });
    assert.equal(map.transaction(() => map.uid('9.8.7')), uid);
    assert.deepEqual(map.transaction(() => map.patient('MRN1', '')), patient);
    assert.equal(map.transaction(() => map.value('accession_no', 'ACC1')), acc);
    void map.close();
  } finally {
    cleanup();
  }
});

test('a store made before fingerprints existed gets one on first use', () => {
  const { dir, cleanup } = tempDir();
  try {
    const db = join(dir, 'id.db');
    void IdentityMap.open(db, { keyFile: join(dir, 'key') }).close();
    const rw = new Database(db);
    rw.prepare("delete from meta where key = 'key_fingerprint'").run();
    rw.close();
    void IdentityMap.open(db, { keyFile: join(dir, 'key') }).close();
    const raw = new Database(db, { readonly: true });
    assert.equal(raw.prepare("select count(*) from meta where key = 'key_fingerprint'").pluck().get(), 1);
    raw.close();
    assert.throws(() => IdentityMap.open(db, { keyFile: join(dir, 'other-key') }), /was made with/);
  } finally {
    cleanup();
  }
});

test('patients: one pseudonym per ID + issuer, non-zero stored offset; the old re-identification queries work', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'id.db');
    const map = IdentityMap.open(path, { keyFile: join(dir, 'key'), dateShiftDays: { min: 1, max: 1 } });
    const p1 = map.transaction(() => map.patient('MRN1', ''));
    const p2 = map.transaction(() => map.patient('MRN1', 'OTHER HOSPITAL'));
    assert.notEqual(p1.id, p2.id);
    assert.equal(p1.dateOffsetDays, -1);
    const acc = map.transaction(() => map.value('accession_no', 'ACC9'));
    const study = map.transaction(() => {
      const cleaned = map.uid('1.2.3.100');
      map.recordRole('1.2.3.100', 'studyuid');
      return cleaned;
    });
    map.close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.prepare('select original from accession_no where cleaned = ?').pluck().get(acc), 'ACC9');
    assert.equal(db.prepare('select original from patient where cleaned = ?').pluck().get(p1.id), 'MRN1');
    assert.equal(db.prepare('select original from studyuid where cleaned = ?').pluck().get(study), '1.2.3.100');
    assert.equal(db.prepare('select count(*) from seriesuid').pluck().get(), 0);
    db.close();
  } finally {
    cleanup();
  }
});

test('dicomRoot validation', () => {
  assert.equal(validateDicomRoot('1.2.826.0.1.3680043.10.99'), undefined);
  assert.match(validateDicomRoot('1.02.3')!, /leading zeros/);
  assert.match(validateDicomRoot('1.2.' + '1'.repeat(50))!, /too long/);
});

test('a Patient ID seen with another family name is flagged, never split or merged silently; the name itself is not stored', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'id.db');
    const map = IdentityMap.open(path, { keyFile: join(dir, 'key') });
    const first = map.transaction(() => map.patient('MRN7', '', 'Doe'));
    assert.equal(first.sameName, true);
    assert.equal(map.transaction(() => map.patient('MRN7', '', "DOE")).sameName, true, 'case and punctuation do not count');
    const other = map.transaction(() => map.patient('MRN7', '', 'Roe'));
    assert.equal(other.sameName, false);
    assert.equal(other.id, first.id, 'one pseudonym per Patient ID + issuer, as specified');
    assert.equal(map.transaction(() => map.patient('MRN7', 'SITE B', 'Roe')).sameName, true, 'another issuer is another patient');
    map.close();
    const reopened = IdentityMap.open(path, { keyFile: join(dir, 'key') });
    assert.equal(reopened.transaction(() => reopened.patient('MRN7', '', 'Roe')).sameName, false, 'remembered across runs');
    reopened.close();
    const db = new Database(path, { readonly: true });
    const checks = db.prepare('select name_check from patient_map').pluck().all() as string[];
    db.close();
    assert.ok(checks.every((c) => /^[0-9a-f]{32}$/.test(c)), 'a keyed hash, not the name');
  } finally {
    cleanup();
  }
});
