import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { findElement, putElement } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { encodePart10 } from '../../src/dicom/serialize';
import { decodeText, encodeAscii } from '../../src/dicom/values';
import { tempDir } from '../helpers/anon-env';
import { FIXTURES, runCli, runCliAsync } from '../helpers/cli';
import { dicomFiles, treeHashes } from '../helpers/files';

const { dir, cleanup } = tempDir('dp-anon-cli-');
test.after(cleanup);
const env = { DICOM_PIPELINE_KEY_FILE: join(dir, 'identity.key') };

/** Two studies of one patient and one of another, three CT instances each, from pydicom's CT_small. */
function makeInput(root: string): void {
  const template = readFileSync(join(FIXTURES, 'ts', 'CT_small.dcm'));
  const studies = [['MRN-A', 'DOE^JANE', '1.2.99.1'], ['MRN-A', 'DOE^JANE', '1.2.99.2'], ['MRN-B', 'ROE^RICHARD', '1.2.99.3']];
  for (const [patientId, name, study] of studies) {
    for (let i = 1; i <= 3; i++) {
      const file = parsePart10(template);
      const set = (tag: number, vr: string, v: string): void => putElement(file.dataset, { tag, vr, value: encodeAscii(v, vr) });
      set(0x00100020, 'LO', patientId);
      set(0x00100010, 'PN', name);
      set(0x0020000d, 'UI', study);
      set(0x0020000e, 'UI', `${study}.1`);
      set(0x00080018, 'UI', `${study}.1.${i}`);
      set(0x00080050, 'SH', `ACC${study.slice(-1)}`);
      const meta = file.meta.map((e) => (e.tag === 0x00020003 ? { ...e, value: encodeAscii(`${study}.1.${i}`, 'UI') } : e));
      mkdirSync(join(root, study), { recursive: true });
      writeFileSync(join(root, study, `${i}.dcm`), Buffer.concat(encodePart10(meta, file.dataset, file.transferSyntax)));
    }
  }
  writeFileSync(join(root, 'notes.txt'), 'not a DICOM file');
}

const input = join(dir, 'in');
makeInput(input);
const before = treeHashes(input);

test('anonymize: summary, layout by new UIDs, one pseudonym per patient, input untouched', () => {
  const res = runCli(['anonymize', input, join(dir, 'run1', 'out'), '--identity', join(dir, 'identity.db')], env);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /files in: +10/);
  assert.match(res.stdout, /anonymized: +9 \(verified: 9\)/);
  assert.match(res.stdout, /unreadable or not DICOM: 1/);
  assert.deepEqual(treeHashes(input), before, 'input files unchanged');
  const outputs = dicomFiles(join(dir, 'run1', 'out'));
  assert.equal(outputs.length, 9);
  for (const f of outputs) {
    assert.match(relative(join(dir, 'run1', 'out'), f), /^2\.25\.\d+\/2\.25\.\d+\/2\.25\.\d+\.dcm$/);
    const bytes = readFileSync(f).toString('latin1');
    for (const phi of ['DOE', 'JANE', 'ROE^', 'MRN-A', 'MRN-B', '1.2.99.']) assert.ok(!bytes.includes(phi), `${phi} in ${basename(f)}`);
  }
  const db = new Database(join(dir, 'identity.db'), { readonly: true });
  assert.equal(db.prepare('select count(*) from patient').pluck().get(), 2);
  assert.equal(db.prepare('select count(*) from studyuid').pluck().get(), 3);
  assert.equal(db.prepare('select count(*) from sopinstanceuid').pluck().get(), 9);
  const janeStudies = db.prepare("select count(*) from study_patient sp join patient p on p.cleaned = sp.patient_cleaned where p.original = 'MRN-A'").pluck().get();
  assert.equal(janeStudies, 2, 'both studies of one patient link to one pseudonym');
  db.close();
  const quarantine = readFileSync(join(dir, 'run1', 'quarantine', 'quarantine.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(quarantine.map((q) => [q.file, q.reason]), [['notes.txt', 'unreadable or not DICOM']]);
});

test('re-running with the same identity.db gives byte-identical outputs', () => {
  const res = runCli(['anonymize', input, join(dir, 'run2', 'out'), '--identity', join(dir, 'identity.db'), '--workers', '2'], env);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(treeHashes(join(dir, 'run2', 'out')), treeHashes(join(dir, 'run1', 'out')));
});

test('two processes at once on one identity.db never create two mappings for one original', async () => {
  const db = join(dir, 'concurrent.db');
  const [a, b] = await Promise.all([
    runCliAsync(['anonymize', input, join(dir, 'ca', 'out'), '--identity', db, '--workers', '2'], env),
    runCliAsync(['anonymize', input, join(dir, 'cb', 'out'), '--identity', db, '--workers', '2'], env),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(treeHashes(join(dir, 'ca', 'out')), treeHashes(join(dir, 'cb', 'out')));
  const conn = new Database(db, { readonly: true });
  assert.equal(conn.prepare('select count(*) from patient').pluck().get(), 2);
  assert.equal(conn.prepare('select count(*) from accession_no').pluck().get(), 3);
  conn.close();
});

test('dates of one patient keep their intervals across studies', () => {
  const outputs = dicomFiles(join(dir, 'run1', 'out')).map((f) => parsePart10(readFileSync(f)));
  const byPatient = new Map<string, Set<string>>();
  for (const o of outputs) {
    const pid = decodeText(findElement(o.dataset, 0x00100020)!);
    const date = decodeText(findElement(o.dataset, 0x00080020)!);
    byPatient.set(pid, (byPatient.get(pid) ?? new Set()).add(date));
    assert.notEqual(date, '20040119', 'original study date shifted');
  }
  assert.equal(byPatient.size, 2);
});

test('two patients sharing a Patient ID are reported in the summary', () => {
  const shared = join(dir, 'shared-id');
  const template = parsePart10(readFileSync(join(FIXTURES, 'ts', 'CT_small.dcm')));
  ['SHARER^ONE', 'OTHER^TWO'].forEach((name, i) => {
    const file = parsePart10(Buffer.concat(encodePart10(template.meta, template.dataset, template.transferSyntax)));
    putElement(file.dataset, { tag: 0x00100020, vr: 'LO', value: encodeAscii('SHARED-ID', 'LO') });
    putElement(file.dataset, { tag: 0x00100010, vr: 'PN', value: encodeAscii(name, 'PN') });
    putElement(file.dataset, { tag: 0x00080018, vr: 'UI', value: encodeAscii(`1.2.99.77.${i}`, 'UI') });
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, `${i}.dcm`), Buffer.concat(encodePart10(file.meta, file.dataset, file.transferSyntax)));
  });
  const res = runCli(['anonymize', shared, join(dir, 'shared-out', 'out'), '--identity', join(dir, 'shared.db')], env);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /warning: +1 files name a different patient than the first file with the same Patient ID/);
  assert.doesNotMatch(res.stdout + res.stderr, /SHARER|OTHER|SHARED-ID/, 'the warning names no one');
});

test('a conflicting SOP Instance UID quarantines every copy, also when one copy is quarantined for another reason', () => {
  // Regression: a copy refused by a screening rule (here Burned In Annotation) was never claimed, so
  // the other, different copy under the same UID was delivered. Pairs in both orders of processing.
  const root = join(dir, 'conflict-screened');
  const template = parsePart10(readFileSync(join(FIXTURES, 'ts', 'CT_small.dcm')));
  const write = (name: string, uid: string, patient: string, burnedIn: boolean): void => {
    const file = parsePart10(Buffer.concat(encodePart10(template.meta, template.dataset, template.transferSyntax)));
    putElement(file.dataset, { tag: 0x00100020, vr: 'LO', value: encodeAscii(patient, 'LO') });
    putElement(file.dataset, { tag: 0x00080018, vr: 'UI', value: encodeAscii(uid, 'UI') });
    if (burnedIn) putElement(file.dataset, { tag: 0x00280301, vr: 'CS', value: encodeAscii('YES', 'CS') });
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, name), Buffer.concat(encodePart10(file.meta, file.dataset, file.transferSyntax)));
  };
  write('a.dcm', '1.2.99.88.1', 'MRN-X', true);
  write('b.dcm', '1.2.99.88.1', 'MRN-Y', false);
  write('c.dcm', '1.2.99.88.2', 'MRN-X', false);
  write('d.dcm', '1.2.99.88.2', 'MRN-Y', true);
  const out = join(dir, 'conflict-screened-out', 'out');
  const res = runCli(['anonymize', root, out, '--identity', join(dir, 'conflict.db'), '--workers', '1'], env);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(dicomFiles(out), [], 'no copy of a conflicting pair is delivered');
  const log = readFileSync(join(dir, 'conflict-screened-out', 'quarantine', 'quarantine.jsonl'), 'utf8')
    .trim().split('\n').map((line) => JSON.parse(line) as { file: string; reason: string });
  const reasons = Object.fromEntries(log.map((entry) => [basename(entry.file), entry.reason]));
  assert.match(reasons['a.dcm'], /burned/i);
  assert.equal(reasons['b.dcm'], 'conflicting SOP Instance UID');
  assert.equal(reasons['c.dcm'], 'conflicting SOP Instance UID');
  assert.match(reasons['d.dcm'], /burned/i);
});

test('user mistakes get one line and exit 2, never a stack trace', () => {
  const badConfig = join(dir, 'bad.json');
  writeFileSync(badConfig, JSON.stringify({ allowedModalities: ['ct'], profile: { retainLongitudinal: 'sometimes' } }));
  const res = runCli(['anonymize', input, join(dir, 'x', 'out'), '--config', badConfig], env);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /2 problems/);
  assert.match(res.stderr, /allowedModalities/);
  assert.match(res.stderr, /profile\.retainLongitudinal/);
  assert.doesNotMatch(res.stderr, /\n\s+at /);
  const inside = runCli(['anonymize', input, join(input, 'out')], env);
  assert.equal(inside.code, 2);
  assert.match(inside.stderr, /inside the input directory/);
  const badWhiteList = join(dir, 'wl.json');
  writeFileSync(badWhiteList, '{"0008,1030": "CT"}');
  const wl = runCli(['anonymize', input, join(dir, 'y', 'out'), '--white-list', badWhiteList], env);
  assert.equal(wl.code, 2);
  assert.match(wl.stderr, /must map to a list of strings/);
});

test('an output directory that cannot be written fails with a clear reason and exit 1', () => {
  const blocked = join(dir, 'blocked');
  writeFileSync(blocked, 'a file where a directory should be');
  const res = runCli(['anonymize', input, join(blocked, 'out'), '--quarantine', join(dir, 'q2'), '--identity', join(dir, 'identity.db')], env);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /ENOTDIR|EEXIST|not a directory/i);
  assert.doesNotMatch(res.stderr, /\n\s+at /);
});
