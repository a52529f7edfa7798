import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/anon-env';
import { FIXTURES, runCli } from '../helpers/cli';
import { part10Bytes, phiDataset, text } from '../helpers/dicom-builder';

const { dir, cleanup } = tempDir('dp-summary-cli-');
test.after(cleanup);

/** Patient A: two CT studies (3 + 1 instances); patient B: one MR study; two OT charset files; junk. */
const tree = join(dir, 'area');
function put(rel: string, over: Parameters<typeof phiDataset>[0], extra: ReturnType<typeof text>[] = []): void {
  const ds = phiDataset(over).filter((e) => !extra.some((x) => x.tag === e.tag));
  mkdirSync(join(tree, rel, '..'), { recursive: true });
  writeFileSync(join(tree, rel), part10Bytes([...ds, ...extra]));
}
put('a/1.dcm', { study: '1.9.1', series: '1.9.1.1', sop: '1.9.1.1.1', patientId: 'A', patientName: 'DOE^JANE' });
put('a/2.dcm', { study: '1.9.1', series: '1.9.1.1', sop: '1.9.1.1.2', patientId: 'A', patientName: 'DOE^JANE' });
put('a/3.dcm', { study: '1.9.1', series: '1.9.1.2', sop: '1.9.1.2.1', patientId: 'A', patientName: 'DOE^JANE' }, [text(0x0008103e, 'LO', 'CORONAL')]);
put('a/4.dcm', { study: '1.9.2', series: '1.9.2.1', sop: '1.9.2.1.1', patientId: 'A', patientName: 'DOE^JANE' });
put('b/1.dcm', { study: '1.9.3', series: '1.9.3.1', sop: '1.9.3.1.1', patientId: 'B', patientName: 'ROE^RICHARD' }, [
  text(0x00080060, 'CS', 'MR'), text(0x00081030, 'LO', 'MR BRAIN'), text(0x0008103e, 'LO', 'T1 SAG'),
]);
cpSync(join(FIXTURES, 'charset', 'chrGerm.dcm'), join(tree, 'charset', 'chrGerm.dcm'));
cpSync(join(FIXTURES, 'charset', 'chrH31.dcm'), join(tree, 'charset', 'chrH31.dcm'));
writeFileSync(join(tree, 'notes.txt'), 'not DICOM');
cpSync(join(FIXTURES, 'misc', 'truncated.dcm'), join(tree, 'b', 'truncated.dcm'));

test('summary: counts, descriptions with counts, decoded patient names, skipped files reported', () => {
  const res = runCli(['summary', tree]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, '', 'nothing on stderr (names go to stdout only)');
  assert.match(res.stdout, /files: +7 DICOM, 2 skipped/);
  assert.match(res.stdout, /patients: +4/);
  assert.match(res.stdout, /studies: +5/);
  assert.match(res.stdout, /series: +6/);
  assert.match(res.stdout, /modalities: 3 \(CT: 3, OT: 2, MR: 1 series\)/);
  assert.match(res.stdout, /Study Descriptions \(3; count = studies\):\n {2}2 {2}\(empty\)\n {2}2 {2}CT CHEST W\/CONTRAST\n {2}1 {2}MR BRAIN/);
  assert.match(res.stdout, /Series Descriptions \(4; count = series\):\n {2}2 {2}\(empty\)\n {2}2 {2}AXIAL 5MM SMITHSON\n {2}1 {2}CORONAL\n {2}1 {2}T1 SAG/);
  assert.match(res.stdout, /Patient Names \(4; count = studies\):\n {2}2 {2}DOE\^JANE\n/);
  assert.match(res.stdout, /Äneas\^Rüdiger/);
  assert.match(res.stdout, /Yamada\^Tarou=山田\^太郎=やまだ\^たろう/);
  assert.match(res.stdout, /skipped, not a DICOM instance or unreadable \(2\):\n {2}b\/truncated\.dcm: .*\n {2}notes\.txt: not a DICOM file/);
});

test('summary --json: the same figures as JSON', () => {
  const res = runCli(['summary', tree, '--json']);
  assert.equal(res.code, 0, res.stderr);
  const s = JSON.parse(res.stdout);
  assert.deepEqual([s.files, s.patients, s.studies, s.series], [7, 4, 5, 6]);
  assert.deepEqual(s.modalities, [{ value: 'CT', count: 3 }, { value: 'OT', count: 2 }, { value: 'MR', count: 1 }]);
  assert.deepEqual(s.patientNames.slice(0, 1), [{ value: 'DOE^JANE', count: 2 }]);
  assert.deepEqual(s.nonDicom.map((f: { path: string }) => f.path), ['b/truncated.dcm', 'notes.txt']);
});

test('summary: a missing directory is a usage error; an empty one gives zeros', () => {
  const missing = runCli(['summary', join(dir, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^dicom-pipeline: directory .*nope does not exist\n$/);
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const res = runCli(['summary', empty, '--json']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(JSON.parse(res.stdout).files, 0);
});
